"""Area-under-ROC saliency metrics: AUC-Judd, AUC-Borji, shuffled AUC (MIT benchmark).

Each metric treats the saliency map as a classifier of fixated pixels (positives) against
some set of negatives, sweeps a threshold, and integrates the ROC curve with the
trapezoid rule, the curve running from (0, 0) to (1, 1). Higher is better; 0.5 is chance;
a constant map scores exactly 0.5. The saliency map is first resized (bilinear) to the
fixation map's shape. Conventions follow github.com/cvzoya/saliency ``code_forMetrics``:

``auc_judd`` (AUC_Judd.m)
    Positives are the fixated pixels, negatives all other pixels; the thresholds are the
    saliency values at the fixated pixels. MIT adds random jitter (``rand/1e7``) to break
    ties. Here ties are handled deterministically instead: the ROC is computed on the
    *unique* fixated values ``t`` with ``tp = #{fixated >= t} / Nfix`` and
    ``fp = #{non-fixated >= t} / (Npix - Nfix)``, so tied pixels move together and the
    trapezoid draws a straight segment across each tie, which is the expectation of the
    jittered result. Without ties it equals MIT exactly. Only the ordering of values
    matters, so AUC-Judd is invariant to any strictly increasing transform of the map (MIT
    min-max normalises first, which changes nothing; we skip it to avoid rounding ties).

``auc_borji`` (AUC_Borji.m)
    The map is min-max normalised to [0, 1]. For each of ``n_splits`` splits, ``Nfix``
    negatives are drawn uniformly *with replacement* from all pixels (fixated ones
    included). Thresholds are ``0, step, 2*step, ...`` up to the largest value among the
    positives and that split's negatives; ``tp`` and ``fp`` are the fractions of positives
    and negatives ``>= threshold``. The score is the mean AUC over splits. Draws come from
    ``numpy.random.default_rng(seed)``: ``rng.integers(0, H*W, size=(n_splits, Nfix))``,
    indices into the row-major flattened map, so results are deterministic for a seed
    (they differ from MATLAB's random stream). Because the thresholds are a fixed grid,
    this is invariant to positive affine rescaling of the map, but *not* to arbitrary
    monotone transforms.

``auc_shuffled`` (AUC_shuffled.m, "sAUC")
    As ``auc_borji``, but the negatives are the saliency values at ``other_fixations``:
    fixation locations from *other* images, already mapped into this image's pixel frame
    by the caller. This discounts centre bias. Per split, ``min(Nfix, Nother)`` of them
    are drawn *without replacement* (the first entries of a uniform random permutation,
    as MIT); ``fp`` divides by that number. Points are used as given: duplicates count
    once per entry and points that coincide with this image's fixations are still
    negatives (MIT does the same). MIT passes a binary ``otherMap``, i.e. unique pixels;
    pass ``np.unique(other_fixations, axis=0)`` to reproduce that exactly.

Thresholds of the Borji/shuffled grid are computed as ``round(k * step, 12)`` so that
e.g. 0.3 is the double nearest to 0.3, as MATLAB's ``0:0.1:1`` produces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from edgesal.metrics._normalise import (
    MetricInputError,
    as_fixation_map,
    as_points,
    minmax_normalise,
    prepare_map,
)

__all__ = ["auc_borji", "auc_judd", "auc_shuffled"]


def _trapezoid(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Trapezoid rule along the last axis (``np.trapezoid`` / ``np.trapz``)."""
    return 0.5 * ((x[..., 1:] - x[..., :-1]) * (y[..., 1:] + y[..., :-1])).sum(axis=-1)


def auc_judd(saliency: Any, fixation_map: Any) -> float:
    """AUC-Judd of a saliency map against a binary fixation map (MIT ``AUC_Judd.m``).

    Args:
        saliency: (h, w) map, higher = more salient, any scale; resized to the fixation map.
        fixation_map: (H, W) binary map, True (or > 0) at fixated pixels.

    Returns:
        The area under the ROC curve in [0, 1]; ties handled deterministically (see module).
    """
    fix = as_fixation_map(fixation_map)
    sal = prepare_map(saliency, fix.shape)
    pos = np.sort(sal[fix])
    neg = np.sort(sal[~fix])
    if neg.size == 0:
        raise MetricInputError("every pixel is fixated: AUC needs non-fixated pixels")
    thresholds = np.unique(pos)[::-1]  # descending
    tp = (pos.size - np.searchsorted(pos, thresholds, side="left")) / pos.size
    fp = (neg.size - np.searchsorted(neg, thresholds, side="left")) / neg.size
    tp = np.concatenate([[0.0], tp, [1.0]])
    fp = np.concatenate([[0.0], fp, [1.0]])
    return float(_trapezoid(tp, fp))


def _grid_thresholds(max_value: float, step: float) -> np.ndarray:
    """Ascending thresholds ``0, step, ...`` up to ``max_value`` (MATLAB ``0:step:max``)."""
    if not step > 0:
        raise MetricInputError(f"step must be > 0, got {step}")
    k_max = int(np.floor(max_value / step + 1e-9))
    return np.round(np.arange(k_max + 1) * step, 12)


def _counts_at_or_above(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each row of ``values`` (S, n), count entries ``>= t`` for every ascending threshold.

    Returns an (S, T) int array. One sorted search plus a per-row histogram: no loops.
    """
    n_rows, n_t = values.shape[0], thresholds.size
    # number of thresholds <= v, i.e. v is >= thresholds[0 .. idx-1]
    idx = np.searchsorted(thresholds, values, side="right")
    flat = idx + (n_t + 1) * np.arange(n_rows)[:, None]
    hist = np.bincount(flat.ravel(), minlength=n_rows * (n_t + 1)).reshape(n_rows, n_t + 1)
    at_least = np.cumsum(hist[:, ::-1], axis=1)[:, ::-1]  # at_least[:, m] = #{idx >= m}
    return at_least[:, 1:]  # column j: #{idx > j} = #{v >= thresholds[j]}


def _split_auc(pos: np.ndarray, neg: np.ndarray, step: float) -> float:
    """Mean over splits of the fixed-grid AUC (MIT Borji / shuffled inner loop), vectorised.

    ``pos``: (P,) positive values in [0, 1]; ``neg``: (S, N) negatives of each split.
    One threshold grid up to the global max is shared: thresholds above a split's own max
    add only (0, 0) points, which contribute no area, so this equals MIT's per-split grid.
    """
    thresholds = _grid_thresholds(float(max(pos.max(), neg.max())), step)
    tp = _counts_at_or_above(pos[None, :], thresholds)[0] / pos.size  # (T,)
    fp = _counts_at_or_above(neg, thresholds) / neg.shape[1]  # (S, T)
    n_splits = neg.shape[0]
    zeros, ones = np.zeros((n_splits, 1)), np.ones((n_splits, 1))
    tp_curve = np.concatenate([zeros, np.broadcast_to(tp[::-1], fp.shape), ones], axis=1)
    fp_curve = np.concatenate([zeros, fp[:, ::-1], ones], axis=1)
    return float(_trapezoid(tp_curve, fp_curve).mean())


def _split_fixation_map(fixation_map: Any, n_splits: int) -> np.ndarray:
    """Check ``n_splits`` and return the boolean fixation map (Borji / shuffled AUC)."""
    if int(n_splits) < 1:
        raise MetricInputError(f"n_splits must be >= 1, got {n_splits}")
    return as_fixation_map(fixation_map)


def _sampled_auc(
    saliency: Any,
    fix: np.ndarray,
    step: float,
    seed: int | None,
    draw_negatives: Callable[[np.ndarray, int, np.random.Generator], np.ndarray],
) -> float:
    """The fixed-grid AUC of Borji and shuffled AUC, which differ only in their negatives.

    ``saliency`` is resized to ``fix`` and min-max normalised; the positives are its values
    at the fixated pixels; ``draw_negatives(sal, n_pos, rng)`` returns the (S, N) negative
    values of every split from that normalised map, drawing from
    ``numpy.random.default_rng(seed)``.
    """
    sal = minmax_normalise(prepare_map(saliency, fix.shape))
    pos = sal[fix]
    neg = draw_negatives(sal, pos.size, np.random.default_rng(seed))
    return _split_auc(pos, neg, step)


def auc_borji(
    saliency: Any,
    fixation_map: Any,
    n_splits: int = 100,
    step: float = 0.1,
    seed: int | None = 0,
) -> float:
    """AUC-Borji: fixated pixels vs uniformly sampled pixels (MIT ``AUC_Borji.m``).

    Args:
        saliency: (h, w) map, any scale; resized to the fixation map, then min-max normalised.
        fixation_map: (H, W) binary fixation map.
        n_splits: number of random negative sets (``Nfix`` pixels each, with replacement).
        step: threshold spacing on the normalised [0, 1] scale.
        seed: seed of the ``numpy.random.default_rng`` drawing the negatives.

    Returns:
        Mean AUC over the splits.
    """
    fix = _split_fixation_map(fixation_map, n_splits)

    def uniform_pixels(sal: np.ndarray, n_pos: int, rng: np.random.Generator) -> np.ndarray:
        return sal.ravel()[rng.integers(0, sal.size, size=(int(n_splits), n_pos))]

    return _sampled_auc(saliency, fix, step, seed, uniform_pixels)


def auc_shuffled(
    saliency: Any,
    fixation_map: Any,
    other_fixations: Any,
    n_splits: int = 100,
    step: float = 0.1,
    seed: int | None = 0,
) -> float:
    """Shuffled AUC: fixated pixels vs other images' fixations (MIT ``AUC_shuffled.m``).

    Args:
        saliency: (h, w) map, any scale; resized to the fixation map, then min-max normalised.
        fixation_map: (H, W) binary fixation map.
        other_fixations: (M, 2) ``(x, y)`` = (column, row) pixel coordinates of fixations
            from other images, already in this image's frame; duplicates allowed.
        n_splits: number of random negative sets of ``min(Nfix, M)`` points (no replacement).
        step: threshold spacing on the normalised [0, 1] scale.
        seed: seed of the ``numpy.random.default_rng`` choosing the negatives.

    Returns:
        Mean AUC over the splits.
    """
    fix = _split_fixation_map(fixation_map, n_splits)
    pts = as_points(other_fixations, fix.shape, name="other_fixations")

    def other_images_fixations(sal: np.ndarray, n_pos: int, rng: np.random.Generator) -> np.ndarray:
        other_vals = sal[pts[:, 1], pts[:, 0]]
        k = min(n_pos, other_vals.size)
        if k == other_vals.size:  # every split uses all of them: no randomness needed
            return np.broadcast_to(other_vals, (int(n_splits), k))
        # first k entries of an independent uniform permutation per split
        keys = rng.random((int(n_splits), other_vals.size))
        return other_vals[np.argpartition(keys, k - 1, axis=1)[:, :k]]

    return _sampled_auc(saliency, fix, step, seed, other_images_fixations)
