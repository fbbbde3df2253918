"""Saliency metrics following the MIT saliency benchmark conventions.

One image at a time; average the per-image scores over a dataset (as the benchmark does).
Input kinds (all ``(H, W)`` 2-D arrays unless stated):

- ``saliency``: the model's map, higher = more salient, any scale. Resized (bilinear,
  half-pixel aligned) to the shape of the fixation map / density when it differs.
- ``fixation_map``: binary map, True at fixated pixels (any array: ``> 0`` is fixated).
- ``density``: ground-truth fixation density, non-negative, any scale.
- ``other_fixations``: ``(M, 2)`` ``(x, y)`` = (column, row) fixations of other images in
  this image's frame, the negatives of shuffled AUC.
- ``baseline``: baseline map for information gain (the caller passes a centre bias).
- ``log_density``: natural-log density of a probabilistic model (for ``log_likelihood``).

Modules: :mod:`~edgesal.metrics.auc` (AUC-Judd, AUC-Borji, sAUC),
:mod:`~edgesal.metrics.distribution` (CC, KL, SIM), :mod:`~edgesal.metrics.fixation`
(NSS, IG, log-likelihood), :mod:`~edgesal.metrics._normalise` (shared checks, resizing,
normalisation). Each module's docstring documents its conventions; ``docs/metrics.md``
summarises them. Invalid inputs raise :class:`MetricInputError` (a ``ValueError``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgesal.metrics._normalise import (
    EPS,
    MetricInputError,
    as_density,
    as_fixation_map,
    fixations_xy,
    prepare_map,
    resize_to,
)
from edgesal.metrics.auc import auc_borji, auc_judd, auc_shuffled
from edgesal.metrics.distribution import cc, kld, sim
from edgesal.metrics.fixation import information_gain, log_likelihood, nss

__all__ = [
    "EPS",
    "HIGHER_IS_BETTER",
    "METRICS",
    "MetricInputError",
    "auc_borji",
    "auc_judd",
    "auc_shuffled",
    "cc",
    "compute_all",
    "fixations_xy",
    "information_gain",
    "kld",
    "log_likelihood",
    "nss",
    "resize_to",
    "sim",
]

#: Metric name -> function, in the key order of :func:`compute_all`.
METRICS: dict[str, Callable[..., float]] = {
    "auc_judd": auc_judd,
    "auc_borji": auc_borji,
    "sauc": auc_shuffled,
    "nss": nss,
    "cc": cc,
    "kld": kld,
    "sim": sim,
    "ig": information_gain,
}

#: Metric name -> whether a larger score is better (only KL divergence is lower-is-better).
HIGHER_IS_BETTER: dict[str, bool] = {name: name != "kld" for name in METRICS} | {"ll": True}


def compute_all(
    saliency: Any,
    fixation_map: Any,
    density: Any,
    other_fixations: Any | None = None,
    baseline: Any | None = None,
    *,
    n_splits: int = 100,
    seed: int | None = 0,
) -> dict[str, float]:
    """All :data:`METRICS` of one saliency map for one image.

    Args:
        saliency: (h, w) saliency map, any scale (non-negative for ``kld``).
        fixation_map: (H, W) binary fixation map.
        density: (H, W) ground-truth fixation density; must have the fixation map's shape.
        other_fixations: (M, 2) ``(x, y)`` fixations of other images for ``sauc``.
        baseline: baseline map for ``ig`` (e.g. a centre bias).
        n_splits: random splits of ``auc_borji`` and ``sauc``.
        seed: seed of their random negatives.

    Returns:
        ``{"auc_judd", "auc_borji", "sauc", "nss", "cc", "kld", "sim", "ig"}`` -> float;
        ``sauc`` / ``ig`` are NaN when ``other_fixations`` / ``baseline`` is None.
    """
    fix = as_fixation_map(fixation_map)
    gt = as_density(density)
    if gt.shape != fix.shape:
        raise MetricInputError(
            f"density shape {gt.shape} differs from fixation_map shape {fix.shape}"
        )
    sal = prepare_map(saliency, fix.shape)  # resize once; the metrics then skip it
    return {
        "auc_judd": auc_judd(sal, fix),
        "auc_borji": auc_borji(sal, fix, n_splits=n_splits, seed=seed),
        "sauc": (
            float("nan")
            if other_fixations is None
            else auc_shuffled(sal, fix, other_fixations, n_splits=n_splits, seed=seed)
        ),
        "nss": nss(sal, fix),
        "cc": cc(sal, gt),
        "kld": kld(sal, gt),
        "sim": sim(sal, gt),
        "ig": float("nan") if baseline is None else information_gain(sal, fix, baseline),
    }

