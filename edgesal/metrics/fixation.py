"""Fixation-based saliency metrics: NSS, information gain, log-likelihood.

``nss`` (MIT NSS.m)
    The saliency map (resized to the fixation map) is standardised to mean 0 and standard
    deviation 1, using the *sample* standard deviation (``ddof=1``) as MATLAB's ``std``
    does, and averaged over the fixated pixels of the binary fixation map (each fixated
    pixel once). Higher is better; 0 is chance; a constant map scores 0 (MIT: NaN).
    Invariant to positive affine rescaling, not to non-linear monotone transforms.

``information_gain`` (MIT InfoGain.m, after Kümmerer et al. 2015)
    The saliency map and the ``baseline`` map (the caller passes a centre-bias map; both
    resized to the fixation map) are each min-max normalised, then divided by their sums,
    turning them into distributions ``p`` and ``b`` over pixels (a constant map becomes
    uniform). The score is the mean over fixated pixels of
    ``log2(eps + p) - log2(eps + b)`` with ``eps = 2.2204e-16`` (MATLAB eps): bits per
    fixation gained over the baseline. Higher is better; 0 = as good as the baseline.

``log_likelihood`` (Kümmerer, Wallis & Bethge, PNAS 2015)
    For probabilistic models that output a natural-log density over pixels
    (``logsumexp(log_density) == 0``; checked to a tolerance of 1e-3 in probability mass,
    ``-inf`` allowed for zero-probability pixels). The score is the mean over *all*
    fixations (duplicates included, each counts) of ``log2 p(x, y) + log2(H * W)``: bits
    per fixation relative to a uniform model over the ``H * W`` pixels. A uniform density
    scores 0; a density spreading all mass uniformly over ``k`` pixels holding all the
    fixations scores ``log2(H * W / k)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp

from edgesal.metrics._normalise import (
    EPS,
    MetricInputError,
    as_fixation_map,
    as_points,
    prepare_map,
    standardise,
    to_distribution,
)

__all__ = ["information_gain", "log_likelihood", "nss"]

#: Allowed deviation of ``sum(exp(log_density))`` from 1 in :func:`log_likelihood`.
LL_MASS_TOLERANCE: float = 1e-3


def nss(saliency: Any, fixation_map: Any) -> float:
    """Normalised scanpath saliency (MIT ``NSS.m``).

    Args:
        saliency: (h, w) map, any scale; resized to the fixation map.
        fixation_map: (H, W) binary map, True (or > 0) at fixated pixels.

    Returns:
        Mean of the standardised map (``ddof=1``) over fixated pixels; 0 for a constant map.
    """
    fix = as_fixation_map(fixation_map)
    sal = prepare_map(saliency, fix.shape)
    return float(standardise(sal, ddof=1)[fix].mean())


def information_gain(saliency: Any, fixation_map: Any, baseline: Any, eps: float = EPS) -> float:
    """Information gain over a baseline, in bits per fixation (MIT ``InfoGain.m``).

    Args:
        saliency: (h, w) map, any scale; resized, min-max normalised, sum-normalised.
        fixation_map: (H, W) binary fixation map.
        baseline: (h', w') baseline map (e.g. centre bias), normalised the same way.
        eps: regulariser, MATLAB ``eps`` by default.

    Returns:
        ``mean(log2(eps + p[fix]) - log2(eps + b[fix]))``.
    """
    fix = as_fixation_map(fixation_map)
    p = to_distribution(prepare_map(saliency, fix.shape))
    b = to_distribution(prepare_map(baseline, fix.shape, name="baseline"))
    return float((np.log2(eps + p[fix]) - np.log2(eps + b[fix])).mean())


def log_likelihood(log_density: Any, fixations_xy: Any) -> float:
    """Log-likelihood of fixations under a probabilistic model, in bits per fixation.

    Args:
        log_density: (H, W) natural-log probability of each pixel; ``exp`` must sum to 1
            (within 1e-3). ``-inf`` marks zero-probability pixels.
        fixations_xy: (N, 2) ``(x, y)`` = (column, row) 0-based pixel coordinates of the
            fixations in the density's frame (floats are rounded; extra columns ignored).

    Returns:
        ``mean(log2 p(x, y)) + log2(H * W)``: gain over a uniform model (may be ``-inf``).
    """
    ld = np.asarray(log_density)
    if ld.ndim != 2 or ld.size == 0:
        raise MetricInputError(f"log_density must be a 2-D (H, W) map, got shape {ld.shape}")
    if not np.issubdtype(ld.dtype, np.floating) and not np.issubdtype(ld.dtype, np.integer):
        raise MetricInputError(f"log_density must be real numbers, got dtype {ld.dtype}")
    ld = ld.astype(np.float64, copy=False)
    if np.isnan(ld).any() or np.isposinf(ld).any():
        raise MetricInputError("log_density contains NaN or +inf values")
    mass = float(np.exp(logsumexp(ld)))
    if not abs(mass - 1.0) <= LL_MASS_TOLERANCE:
        raise MetricInputError(
            f"log_density is not a normalised log-probability map: exp(log_density) sums to "
            f"{mass:.6g}, not 1 (tolerance {LL_MASS_TOLERANCE:g}); subtract its logsumexp first"
        )
    h, w = ld.shape
    pts = as_points(fixations_xy, (h, w), name="fixations_xy")
    values = ld[pts[:, 1], pts[:, 0]]
    return float(values.mean() / np.log(2.0) + np.log2(h * w))
