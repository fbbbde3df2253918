"""Keeping fixation points on their image, and counting the outliers dropped."""

from __future__ import annotations

import numpy as np


def empty_fixations() -> np.ndarray:
    """A (0, 3) float64 fixation array."""
    return np.zeros((0, 3), dtype=np.float64)


def clip_fixations(fixations: np.ndarray, shape_hw: tuple[int, int]) -> tuple[np.ndarray, int]:
    """Keep the points that lie on the image; return them and how many were dropped.

    ``fixations`` is (N, 3): x, y (0-based pixel centres), observer. A point lies on the image
    when it is on some pixel, i.e. -0.5 <= x <= W - 0.5 and -0.5 <= y <= H - 0.5: those are
    clamped to x ∈ [0, W-1], y ∈ [0, H-1] (a sub-pixel move, the rounding any fixation map
    does). Every other point (NaN included) is a real outlier: it is dropped, never moved
    onto the border, and counted in the returned number.
    """
    h, w = int(shape_hw[0]), int(shape_hw[1])
    fix = np.array(fixations, dtype=np.float64).reshape(-1, 3)
    x, y = fix[:, 0], fix[:, 1]
    inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
    kept = fix[inside]
    kept[:, 0] = np.clip(kept[:, 0], 0, w - 1)
    kept[:, 1] = np.clip(kept[:, 1], 0, h - 1)
    return kept, int(len(fix) - len(kept))


def normalise_points(fixations: np.ndarray, shape_hw: tuple[int, int]) -> np.ndarray:
    """(N, 2) float64 positions in [0, 1): x / W, y / H."""
    h, w = int(shape_hw[0]), int(shape_hw[1])
    fix = np.asarray(fixations, dtype=np.float64)
    if fix.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    fix = fix.reshape(len(fix), -1)
    return np.column_stack([fix[:, 0] / w, fix[:, 1] / h])


def points_from_binary_map(fix_map: np.ndarray, shape_hw: tuple[int, int], threshold: float = 0.5) -> np.ndarray:
    """Fixations (observer −1) at the non-zero pixels of a binary fixation map.

    ``fix_map`` values above ``threshold`` × its maximum count as fixated (robust to JPEG
    ringing around the dots). A map of a different size than the image is rescaled to
    image pixel coordinates.
    """
    arr = np.asarray(fix_map, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr.max(axis=-1)
    peak = arr.max() if arr.size else 0.0
    if not peak > 0:
        return empty_fixations()
    ys, xs = np.nonzero(arr > threshold * peak)
    mh, mw = arr.shape
    h, w = int(shape_hw[0]), int(shape_hw[1])
    xs = xs.astype(np.float64)
    ys = ys.astype(np.float64)
    if (mh, mw) != (h, w):
        xs = (xs + 0.5) * (w / mw) - 0.5
        ys = (ys + 0.5) * (h / mh) - 0.5
    return np.column_stack([xs, ys, np.full(len(xs), -1.0)])
