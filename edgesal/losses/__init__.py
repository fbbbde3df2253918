"""Training losses for saliency models.

Output conventions:

* ``log_density``: (B, H, W) or (B, 1, H, W), ``logsumexp`` over pixels = 0 (spatial
  log-softmax; DeepGaze / Fisher-pruning readout);
* ``logits``: (B, 1, H, W) scores of a per-pixel sigmoid map (FastSal eq. 2).

Registry contract: ``LOSSES[name]`` is a callable ``(output, batch) -> scalar Tensor`` where
``batch`` is a mapping with keys

* ``"fixation_map"``: (B, H, W) fixation counts / binary map (all-zero rows are allowed),
* ``"density"``: (B, H, W) non-negative GT density (any scale),
* ``"teacher"``: (B, H, W) teacher map, or None / missing.

A loss whose output has more than one map per sample (the temporal students' clip loss in
:mod:`edgesal.video.training`: fused + spatial maps) says so with an ``output_channels``
attribute; image losses have none (one channel).

When the teacher is None each loss falls back to its ground-truth terms only:

=====================  ==========================================  ===========================
name                   with teacher                                teacher None
=====================  ==========================================  ===========================
fixation_nll           NLL of fixations (teacher unused)           same
density_cross_entropy  H(teacher, p)                               H(density, p)
theis                  0.1 NLL(fixations) + 0.9 H(teacher, p)      NLL(fixations) (weight 1)
fastsal_bce            BCE(z, mm(density)) + BCE(z, mm(teacher))   BCE(z, mm(density))
fastsal_kl_cc_bce      KL + (1 - CC) vs density + BCE vs teacher   KL + (1 - CC)
fastsal_eq3_paper      .5 KL + .2 (1 - CC) + .3 BCE vs teacher     the same vs density
=====================  ==========================================  ===========================

``fastsal_eq3_paper`` is FastSal eq. 3 as the paper writes it (uncentred CC, BCE of
``sigmoid(z)``) and expects the raw scores of a sigmoid head (``logits``);
``fastsal_kl_cc_bce`` is edgesal's variant (see :mod:`.fastsal` for the differences).

All maps must already have the output's spatial size (ValueError otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import Tensor

from ..errors import EdgesalError
from .fastsal import (
    cc_uncentred,
    correlation_coefficient,
    fastsal_bce_loss,
    fastsal_eq3_paper_loss,
    fastsal_kl_cc_bce_loss,
    kl_divergence,
    minmax_normalise,
)
from .feature_statistics import (
    FeatureStatisticsLoss,
    channel_attention,
    covariance,
    first_order_loss,
    gram_matrix,
    second_order_loss,
    spatial_attention,
)
from .fixation import (
    density_cross_entropy,
    fixation_nll,
    log_softmax_2d,
    theis_distillation_loss,
)
from .hint import HintLoss

LossFn = Callable[[Tensor, Mapping[str, Any]], Tensor]


def _teacher(batch: Mapping[str, Any]) -> Tensor | None:
    return batch.get("teacher")


def _fixation_nll(output: Tensor, batch: Mapping[str, Any]) -> Tensor:
    return fixation_nll(output, batch["fixation_map"])


def _density_ce(output: Tensor, batch: Mapping[str, Any]) -> Tensor:
    teacher = _teacher(batch)
    return density_cross_entropy(output, batch["density"] if teacher is None else teacher)


def _theis(output: Tensor, batch: Mapping[str, Any]) -> Tensor:
    return theis_distillation_loss(output, batch["fixation_map"], _teacher(batch))


def _fastsal_bce(output: Tensor, batch: Mapping[str, Any]) -> Tensor:
    return fastsal_bce_loss(output, batch["density"], _teacher(batch))


def _fastsal_kl_cc_bce(output: Tensor, batch: Mapping[str, Any]) -> Tensor:
    return fastsal_kl_cc_bce_loss(output, batch["density"], _teacher(batch))


def _fastsal_eq3_paper(output: Tensor, batch: Mapping[str, Any]) -> Tensor:
    teacher = _teacher(batch)
    return fastsal_eq3_paper_loss(output, batch["density"] if teacher is None else teacher)


LOSSES: dict[str, LossFn] = {
    "fixation_nll": _fixation_nll,
    "density_cross_entropy": _density_ce,
    "theis": _theis,
    "fastsal_bce": _fastsal_bce,
    "fastsal_kl_cc_bce": _fastsal_kl_cc_bce,
    "fastsal_eq3_paper": _fastsal_eq3_paper,
}
"""Name -> ``(output, batch) -> loss``; see the module docstring for the contract."""


def default_loss(output_kind: str) -> str:
    """The training loss of a model kind: ``theis`` for log-density outputs, ``fastsal_bce``
    for sigmoid (logit) maps — used by ``edgesal train``, ``prune`` and ``prune-sweep``."""
    return "theis" if output_kind == "log_density" else "fastsal_bce"


def get_loss(name: str) -> LossFn:
    """Look up a registered loss; EdgesalError listing the known names if unknown."""
    try:
        return LOSSES[name]
    except KeyError:
        raise EdgesalError(
            f"unknown loss {name!r}; known: {', '.join(sorted(LOSSES))}"
        ) from None


__all__ = [
    "LOSSES",
    "FeatureStatisticsLoss",
    "HintLoss",
    "LossFn",
    "cc_uncentred",
    "channel_attention",
    "correlation_coefficient",
    "covariance",
    "default_loss",
    "density_cross_entropy",
    "fastsal_bce_loss",
    "fastsal_eq3_paper_loss",
    "fastsal_kl_cc_bce_loss",
    "first_order_loss",
    "fixation_nll",
    "get_loss",
    "gram_matrix",
    "kl_divergence",
    "log_softmax_2d",
    "minmax_normalise",
    "second_order_loss",
    "spatial_attention",
    "theis_distillation_loss",
]
