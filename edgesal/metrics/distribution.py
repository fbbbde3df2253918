"""Distribution-based saliency metrics: CC, KL divergence, SIM (MIT benchmark).

Each compares a saliency map with a ground-truth fixation ``density`` of the same image:
a non-negative ``(H, W)`` map of any scale (e.g. blurred fixations; it need not sum to 1).
An all-zero density is an error ("no fixations"). The saliency map is resized (bilinear)
to the density's shape first. Conventions follow github.com/cvzoya/saliency:

``cc`` (CC.m)
    Pearson's linear correlation coefficient of the two maps (each standardised to mean 0,
    std 1). In [-1, 1], higher is better, identical maps give 1. Invariant to positive
    affine rescaling of either map. If either map is constant the correlation is undefined
    (MIT returns NaN); we return 0, the chance score.

``kld`` (KLdiv.m)
    Both maps are divided by their sums, then
    ``KL = sum(G * log(eps + G / (S + eps)))`` with the ground truth ``G`` as reference
    distribution, the saliency ``S`` as approximation, ``eps = 2.2204e-16`` (MATLAB eps)
    and the natural log (nats). Lower is better; identical maps give 0. The saliency map
    must be non-negative (it is used as a distribution, not min-max normalised); an
    all-zero saliency map is treated as uniform (MIT leaves it all zero).

``sim`` (similarity.m)
    Both maps are min-max normalised to [0, 1], then divided by their sums; the score is
    the histogram intersection ``sum(min(P, Q))``. In [0, 1], higher is better, identical
    maps give 1. A constant map becomes the uniform distribution (MIT: NaN, or all zero
    for an all-zero map).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgesal.metrics._normalise import (
    EPS,
    MetricInputError,
    as_density,
    prepare_map,
    standardise,
    sum_normalise,
    to_distribution,
)

__all__ = ["cc", "kld", "sim"]


def cc(saliency: Any, density: Any) -> float:
    """Pearson correlation between a saliency map and the fixation density (MIT ``CC.m``).

    Args:
        saliency: (h, w) map, any scale; resized to the density's shape.
        density: (H, W) non-negative ground-truth fixation density, any scale.

    Returns:
        Correlation in [-1, 1]; 0 when either map is constant.
    """
    gt = as_density(density)
    sal = prepare_map(saliency, gt.shape)
    a = standardise(sal)
    b = standardise(gt)
    denom = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if denom == 0.0:
        return 0.0
    return float(np.clip((a * b).sum() / denom, -1.0, 1.0))


def kld(saliency: Any, density: Any, eps: float = EPS) -> float:
    """KL divergence of the saliency distribution from the density (MIT ``KLdiv.m``).

    Args:
        saliency: (h, w) non-negative map, any scale; resized, then sum-normalised.
        density: (H, W) non-negative ground-truth density (reference), sum-normalised.
        eps: regulariser, MATLAB ``eps`` by default.

    Returns:
        ``sum(G * log(eps + G / (S + eps)))`` in nats (lower is better).
    """
    g = sum_normalise(as_density(density))
    sal = prepare_map(saliency, g.shape)
    if (sal < 0).any():
        raise MetricInputError(
            f"KL divergence needs a non-negative saliency map (min {sal.min():.4g}); "
            "min-max normalise or exponentiate it first"
        )
    s = sum_normalise(sal)
    return float((g * np.log(eps + g / (s + eps))).sum())


def sim(saliency: Any, density: Any) -> float:
    """Similarity (histogram intersection) of the two normalised maps (MIT ``similarity.m``).

    Args:
        saliency: (h, w) map, any scale; resized, min-max then sum-normalised.
        density: (H, W) non-negative ground-truth density, min-max then sum-normalised.

    Returns:
        ``sum(min(P, Q))`` in [0, 1].
    """
    q = to_distribution(as_density(density))
    p = to_distribution(prepare_map(saliency, q.shape))
    return float(np.minimum(p, q).sum())
