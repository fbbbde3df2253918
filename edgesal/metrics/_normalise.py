"""Shared input checks and normalisations for the saliency metrics.

Conventions used by every metric in :mod:`edgesal.metrics`:

- **Arrays** are 2-D ``(H, W)``; anything ``np.asarray`` accepts works (CPU torch tensors too).
  Computation is in float64.
- **Resizing**: a saliency (or baseline) map whose shape differs from the reference
  (fixation map or density) is resized to the reference shape with *bilinear*
  interpolation, half-pixel aligned (pixel centres map to pixel centres, edges replicated),
  no antialiasing: identical to ``torch.nn.functional.interpolate(mode="bilinear",
  align_corners=False)`` and OpenCV ``INTER_LINEAR``. (MIT's code uses MATLAB ``imresize``,
  bicubic with antialiasing; submit maps at the reference size to avoid the difference.)
  :func:`resize_to` is the one helper doing this.
- **Fixation maps** are binary; any numeric array is read as ``map > 0`` (MIT: ``F > 0``).
  A map without any fixated pixel is an error ("no fixations").
- **Fixation coordinates** are ``(N, 2)`` arrays of ``(x, y) = (column, row)``, 0-based,
  pixel centres at integers (extra columns, e.g. an observer id, are ignored). Floats are
  rounded to the nearest pixel; points outside ``[-0.5, W - 0.5] x [-0.5, H - 0.5]`` are an
  error, never silently dropped.
- **Non-finite values** (NaN, ±inf) in any map are an error.
- **Constant maps** carry no information. They are scored at chance level everywhere:
  :func:`minmax_normalise` maps them to all zeros (so AUCs give 0.5), standardisation gives
  NSS = CC = 0, and :func:`to_distribution` turns them into the uniform distribution
  (KL, SIM, IG). MIT's code returns NaN for most of these (0/0 in min-max normalisation).

All errors raised here are :class:`MetricInputError`, a ``ValueError`` that the CLI prints
as a one-line user error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage

from edgesal.errors import EdgesalError

#: MATLAB's ``eps`` (2.2204e-16), the regulariser of MIT's KLdiv.m and InfoGain.m.
EPS: float = float(np.finfo(np.float64).eps)


class MetricInputError(EdgesalError, ValueError):
    """Invalid input to a saliency metric (bad shape, NaN, no fixations, ...)."""


def as_map(x: Any, name: str = "saliency") -> np.ndarray:
    """Return ``x`` as a finite 2-D float64 array, else raise :class:`MetricInputError`."""
    a = np.asarray(x)
    if a.ndim != 2:
        raise MetricInputError(f"{name} must be a 2-D (H, W) map, got shape {a.shape}")
    if a.size == 0:
        raise MetricInputError(f"{name} is empty (shape {a.shape})")
    if a.dtype == bool:
        a = a.astype(np.float64)
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise MetricInputError(f"{name} must be a real numeric map, got dtype {a.dtype}")
    a = a.astype(np.float64, copy=False)
    if not np.isfinite(a).all():
        n_bad = int(np.count_nonzero(~np.isfinite(a)))
        raise MetricInputError(f"{name} contains {n_bad} NaN/inf value(s)")
    return a


def as_fixation_map(x: Any, name: str = "fixation_map") -> np.ndarray:
    """Return a 2-D bool fixation map (``x > 0``); raise if it has no fixations."""
    a = np.asarray(x)
    if a.ndim != 2:
        raise MetricInputError(f"{name} must be a 2-D (H, W) map, got shape {a.shape}")
    if a.dtype != bool:
        a = as_map(a, name) > 0
    if not a.any():
        raise MetricInputError(f"{name} has no fixations (no pixel is > 0)")
    return a


def as_density(x: Any, name: str = "density") -> np.ndarray:
    """Return a finite, non-negative 2-D float64 density; raise if it is all zero."""
    a = as_map(x, name)
    if (a < 0).any():
        raise MetricInputError(f"{name} must be non-negative (min {a.min():.4g})")
    if not (a > 0).any():
        raise MetricInputError(f"{name} is all zero: no fixations")
    return a


def resize_to(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinearly resize a 2-D map to ``shape`` (half-pixel aligned; no-op if equal).

    Matches ``torch.nn.functional.interpolate(..., mode="bilinear", align_corners=False)``.
    """
    shape = (int(shape[0]), int(shape[1]))
    if x.shape == shape:
        return x
    if float(x.max()) == float(x.min()):  # keep constant maps exactly constant
        return np.full(shape, x.flat[0], dtype=np.float64)
    zoom = (shape[0] / x.shape[0], shape[1] / x.shape[1])
    out = ndimage.zoom(x, zoom, order=1, mode="nearest", grid_mode=True)
    if out.shape != shape:  # pragma: no cover - guarded by scipy's rounding of the zoom
        raise MetricInputError(f"could not resize {x.shape} to {shape} (got {out.shape})")
    return out


def prepare_map(x: Any, shape: tuple[int, int], name: str = "saliency") -> np.ndarray:
    """Validate a map (finite, 2-D) and resize it to ``shape``."""
    return resize_to(as_map(x, name), shape)


def minmax_normalise(x: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] by ``(x - min) / (max - min)``; a constant map becomes all zeros."""
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.zeros_like(x, dtype=np.float64)
    return (x - lo) / (hi - lo)


def sum_normalise(x: np.ndarray) -> np.ndarray:
    """Divide by the sum so it sums to 1; an all-zero map becomes uniform."""
    total = float(x.sum())
    if total <= 0:
        return np.full(x.shape, 1.0 / x.size)
    return x / total


def to_distribution(x: np.ndarray) -> np.ndarray:
    """Min-max normalise then sum-normalise (MIT similarity.m / InfoGain.m).

    A constant map (including all zero) becomes the uniform distribution.
    """
    return sum_normalise(minmax_normalise(x))


def standardise(x: np.ndarray, ddof: int = 1) -> np.ndarray:
    """``(x - mean) / std`` with ``ddof=1`` (MATLAB ``std``); a constant map becomes zeros.

    Constancy is tested exactly (``max == min``): the float mean of a constant map can be
    off by one ulp, and dividing that residue by its tiny std would amplify it to O(1).
    """
    if x.size <= ddof or float(x.max()) == float(x.min()):
        return np.zeros_like(x, dtype=np.float64)
    centred = x - x.mean()
    std = float(np.sqrt((centred**2).sum() / (x.size - ddof)))
    if std == 0.0:
        return np.zeros_like(centred)
    return centred / std


def as_points(xy: Any, shape: tuple[int, int], name: str = "fixations") -> np.ndarray:
    """Return ``(N, 2)`` int ``(x, y)`` pixel coordinates inside an image of ``shape``.

    Accepts ``(N, 2)`` or ``(N, k>2)`` arrays (extra columns ignored). Floats are rounded to
    the nearest pixel centre; a point outside the image (beyond half a pixel) is an error.
    Duplicates are kept.
    """
    a = np.asarray(xy)
    if a.size == 0:
        raise MetricInputError(f"{name} is empty: no points given")
    if a.ndim != 2 or a.shape[1] < 2:
        raise MetricInputError(f"{name} must be an (N, 2) array of (x, y), got shape {a.shape}")
    if a.dtype == bool or not np.issubdtype(a.dtype, np.number):
        raise MetricInputError(f"{name} must be numeric (x, y) coordinates, got dtype {a.dtype}")
    pts = a[:, :2].astype(np.float64)
    if not np.isfinite(pts).all():
        raise MetricInputError(f"{name} contains NaN/inf coordinates")
    h, w = shape
    inside = (
        (pts[:, 0] >= -0.5) & (pts[:, 0] <= w - 0.5) & (pts[:, 1] >= -0.5) & (pts[:, 1] <= h - 0.5)
    )
    if not inside.all():
        bad = pts[~inside][0]
        raise MetricInputError(
            f"{int((~inside).sum())} of {len(pts)} {name} lie outside the {w}x{h} (W x H) image, "
            f"e.g. (x={bad[0]:g}, y={bad[1]:g}); coordinates are 0-based (x=column, y=row)"
        )
    out = np.rint(pts).astype(np.int64)
    np.clip(out[:, 0], 0, w - 1, out=out[:, 0])
    np.clip(out[:, 1], 0, h - 1, out=out[:, 1])
    return out


def fixations_xy(fixation_map: Any) -> np.ndarray:
    """``(N, 2)`` int ``(x, y)`` coordinates of the fixated pixels of a binary map (row-major order)."""
    fmap = as_fixation_map(fixation_map)
    rows, cols = np.nonzero(fmap)
    return np.stack([cols, rows], axis=1).astype(np.int64)
