"""Feature distillation terms: a loss between the student's backbone features and a frozen
teacher's features, added to the task loss during training (``edgesal train --distill``) or
trained alone before it (hint pretraining, :mod:`edgesal.training.hint`).

``DISTILL_TERMS`` is the registry: name → a builder ``(student_channels, teacher_channels)
→ loss module`` whose ``forward(student_features, teacher_features)`` returns a scalar (its
learnable adapters are trained with the student):

* ``stats``: Zhang et al.'s first/second-order feature statistics
  (:class:`edgesal.losses.FeatureStatisticsLoss`, 1×1 adapters where channel counts differ);
* ``hint``: FitNets hint regression (:class:`edgesal.losses.HintLoss`).

Student levels pair with teacher features as :func:`level_pairs` says.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

import torch
import torch.distributed as dist
from torch import Tensor, nn

from edgesal.errors import EdgesalError
from edgesal.losses import FeatureStatisticsLoss, HintLoss, LossFn
from edgesal.models.registry import ModelSpec
from edgesal.training.feature_teachers import FeatureTeacher

DISTILL_TERMS: dict[str, Callable[[list[int], list[int]], nn.Module]] = {
    "stats": lambda cs, ct: FeatureStatisticsLoss(student_channels=cs, teacher_channels=ct),
    "hint": lambda cs, ct: HintLoss(cs, ct),
}
"""Name → builder of the feature loss from the paired channel counts."""


def check_term(name: str) -> str:
    """``name`` if it is a registered term; EdgesalError with the known names otherwise."""
    if name not in DISTILL_TERMS:
        close = difflib.get_close_matches(name, list(DISTILL_TERMS), n=1)
        raise EdgesalError(f"unknown distillation term {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
                           + f" (known: {', '.join(DISTILL_TERMS)})")
    return name


def level_pairs(n_student: int, n_teacher: int, layers: Sequence[int] | None,
                same_levels: bool) -> list[tuple[int, int]]:
    """(student level, teacher feature) index pairs.

    ``layers`` picks student backbone levels (0 = stride 4 … 3 = stride 32). An edgesal
    teacher (``same_levels``) gives the same levels of its own backbone; a teacher of named
    tensors gives its tensors in order, one per chosen level. Without ``layers`` the last
    ``min(n_student, n_teacher)`` levels pair with the last teacher features.
    """
    if layers is None:
        k = min(n_student, n_teacher)
        return list(zip(range(n_student - k, n_student), range(n_teacher - k, n_teacher)))
    bad = [i for i in layers if not 0 <= i < n_student]
    if bad:
        raise EdgesalError(f"feature layer {bad[0]} does not exist: the student's backbone has levels "
                           f"0…{n_student - 1}")
    if same_levels:
        if max(layers) >= n_teacher:
            raise EdgesalError(f"feature layer {max(layers)} does not exist in the teacher (levels 0…{n_teacher - 1})")
        return [(i, i) for i in layers]
    if len(layers) != n_teacher:
        raise EdgesalError(f"{len(layers)} feature layers for {n_teacher} teacher tensors: give one layer per tensor")
    return list(zip(layers, range(n_teacher)))


class FeatureDistillation(nn.Module):
    """A feature loss between a student's backbone levels and a frozen teacher's features.

    A forward hook on ``student.backbone`` keeps the features of the latest forward pass;
    :meth:`feature_loss` compares them with the teacher's features of the same images.
    The loss module's parameters (adapters) are this module's: train them with the student.
    ``sync=True`` (DistributedDataParallel) averages their gradients over the processes.
    """

    def __init__(self, student: nn.Module, spec: ModelSpec, teacher: FeatureTeacher, term: str,
                 weight: float = 1.0, layers: Sequence[int] | None = None, sync: bool = False):
        super().__init__()
        if not hasattr(student, "backbone"):
            raise EdgesalError(f"{spec.name} has no backbone to distil features into")
        self.teacher, self.weight, self.term = teacher, float(weight), check_term(term)
        probe = torch.zeros(1, 3, *spec.input_hw)
        was_training = student.training
        student.eval()  # no BatchNorm statistics update from the probe
        with torch.no_grad():
            s_feats = list(student.backbone(probe))
        student.train(was_training)
        t_feats = teacher(probe)
        self.pairs = level_pairs(len(s_feats), len(t_feats), layers, teacher.same_levels)
        self.loss = DISTILL_TERMS[term]([s_feats[i].shape[1] for i, _ in self.pairs],
                                        [t_feats[j].shape[1] for _, j in self.pairs])
        self._student: list[Tensor] | None = None
        self._hook = student.backbone.register_forward_hook(self._capture)
        if sync:
            for p in self.loss.parameters():
                p.register_hook(_all_reduce_mean)

    def _capture(self, module: nn.Module, inputs, output) -> None:
        self._student = list(output)

    def feature_loss(self, image: Tensor) -> Tensor:
        """The term for the student's latest backbone pass, which must have been on ``image``."""
        if self._student is None:
            raise RuntimeError("run the student on the batch before its feature loss")
        targets = self.teacher(image)
        return self.loss([self._student[i] for i, _ in self.pairs], [targets[j] for _, j in self.pairs])

    def wrap(self, loss_fn: LossFn) -> LossFn:
        """``loss_fn(output, batch) + weight * feature_loss(batch["image"])``."""
        def total(output: Tensor, batch: dict) -> Tensor:
            return loss_fn(output, batch) + self.weight * self.feature_loss(batch["image"])

        return total

    def close(self) -> None:
        """Remove the hook from the student."""
        self._hook.remove()
        self._student = None

    def describe(self) -> dict:
        """What a run's metadata records."""
        return {"term": self.term, "teacher": self.teacher.name, "weight": self.weight,
                "pairs": [list(p) for p in self.pairs]}


def _all_reduce_mean(grad: Tensor) -> Tensor:
    grad = grad.clone()
    dist.all_reduce(grad)
    return grad / dist.get_world_size()
