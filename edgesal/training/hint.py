"""Hint pretraining (FastSal): regress a frozen teacher's intermediate features from the
student's backbone through 1×1 adapters (``HintLoss``) before the main training.

The teacher is any :mod:`feature teacher <edgesal.training.feature_teachers>`: an edgesal
model (shipped name, architecture, ``.pt``; its backbone levels) or an exported ``.onnx`` /
``.tflite`` file with named intermediate tensors.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm import tqdm

from edgesal.training.arrays import TrainingArrays
from edgesal.training.batches import epoch_order, make_batch
from edgesal.training.distill import FeatureDistillation
from edgesal.training.feature_teachers import load_feature_teacher
from edgesal.training.trainer import check_finite, gradient_step


def hint_pretrain(student: torch.nn.Module, spec, teacher: str, arrays: TrainingArrays, steps: int,
                  batch: int = 8, lr: float = 1e-3, seed: int = 0, progress: bool = True,
                  tensors: Sequence[str] | None = None, layers: Sequence[int] | None = None) -> list[float]:
    """Train the student's backbone for ``steps`` steps on the hint loss; returns the losses.

    ``tensors`` names the teacher's intermediate tensors (exported teachers); ``layers`` the
    student backbone levels they pair with (see :func:`edgesal.training.distill.level_pairs`).
    """
    hint = FeatureDistillation(student, spec, load_feature_teacher(teacher, spec, tensors), "hint", layers=layers)
    optimizer = torch.optim.Adam(list(student.backbone.parameters()) + list(hint.parameters()), lr=lr)
    losses = []
    order = epoch_order(len(arrays), seed, 0)
    student.train()
    try:
        for step in tqdm(range(steps), desc="hint pretraining", unit="step", disable=not progress):
            start = (step * batch) % max(len(order) - batch + 1, 1)
            x = make_batch(arrays, order[start:start + batch], spec.mean, spec.std)["image"]
            student.backbone(x)
            loss = hint.feature_loss(x)
            check_finite(loss, f"hint pretraining diverged at step {step}")
            gradient_step(optimizer, loss)
            losses.append(loss.item())
    finally:
        hint.close()
    return losses
