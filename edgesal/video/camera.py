"""Simulated camera motion over a still image: the exact same transform moves pixels and fixations.

A frame is a view of the source image through a 2×3 matrix ``M`` that maps an output pixel
``(x, y, 1)`` to source coordinates (0-based, pixel centres at integers, x = column):
``frame[y, x] = image(M @ (x, y, 1))`` (bilinear). A source fixation ``p`` therefore lands at
``M⁻¹ p`` in the frame — :func:`to_frame` — which is where its pixel content went.

A view is a crop window: centre ``(cx, cy)`` in the source and ``scale`` source pixels per
output pixel (no rotation): ``x_s = scale·(x − (W−1)/2) + cx``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import affine_transform

#: shot kinds the simulator draws from
SHOT_KINDS = ("pan", "zoom", "static")


def view_matrix(cx: float, cy: float, scale: float, out_wh: tuple[int, int]) -> np.ndarray:
    """2×3 matrix of the view centred on (cx, cy) with ``scale`` source px per output px."""
    w, h = out_wh
    return np.array([[scale, 0.0, cx - scale * (w - 1) / 2], [0.0, scale, cy - scale * (h - 1) / 2]])


def render(image: np.ndarray, matrix: np.ndarray, out_wh: tuple[int, int]) -> np.ndarray:
    """The (H, W, 3) uint8 frame seen through ``matrix`` (bilinear; outside pixels: nearest edge)."""
    w, h = out_wh
    # scipy works in (row, col): source (r, c) = A @ (r_out, c_out) + offset
    a = np.array([[matrix[1, 1], matrix[1, 0]], [matrix[0, 1], matrix[0, 0]]])
    offset = np.array([matrix[1, 2], matrix[0, 2]])
    channels = [affine_transform(image[..., c].astype(np.float32), a, offset, output_shape=(h, w), order=1,
                                 mode="nearest") for c in range(image.shape[2])]
    return np.clip(np.rint(np.stack(channels, axis=-1)), 0, 255).astype(np.uint8)


def to_frame(points_xy: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Source (N, 2) x, y → frame coordinates (the inverse of ``matrix``)."""
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    pts = np.column_stack([points_xy[:, :2], np.ones(len(points_xy))])
    return (np.linalg.solve(full, pts.T).T)[:, :2]


def in_frame(points_xy: np.ndarray, out_wh: tuple[int, int]) -> np.ndarray:
    """Mask of points on some frame pixel (−0.5 ≤ x ≤ W − 0.5, same for y)."""
    w, h = out_wh
    return ((points_xy[:, 0] >= -0.5) & (points_xy[:, 0] <= w - 0.5)
            & (points_xy[:, 1] >= -0.5) & (points_xy[:, 1] <= h - 0.5))


@dataclass(frozen=True)
class MotionSettings:
    """Ranges of the random camera: zoom (fraction of the largest view), pan length, shake (output px)."""

    min_zoom: float = 0.55
    max_pan: float = 0.35  # of the source side
    shake_px: float = 1.5


def _centre_bounds(src_hw: tuple[int, int], out_wh: tuple[int, int], scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the view centre that keeps the window inside the source."""
    h, w = src_hw
    half = np.array([scale * out_wh[0] / 2 - 0.5, scale * out_wh[1] / 2 - 0.5])
    low, high = half, np.array([w - 1.0, h - 1.0]) - half
    mid = (low + high) / 2
    return np.minimum(low, mid), np.maximum(high, mid)


def shot_matrices(rng: np.random.Generator, kind: str, src_hw: tuple[int, int], out_wh: tuple[int, int],
                  n_frames: int, settings: MotionSettings | None = None) -> list[np.ndarray]:
    """The view matrices of one shot of ``kind`` (pan, zoom or static; all with smooth shake)."""
    settings = settings or MotionSettings()
    full = min(src_hw[1] / out_wh[0], src_hw[0] / out_wh[1])  # largest view that fits
    zooms = rng.uniform(settings.min_zoom, 1.0, size=2) * full
    scales = np.linspace(zooms[0], zooms[1], n_frames) if kind == "zoom" else np.full(n_frames, zooms[0])
    low, high = _centre_bounds(src_hw, out_wh, scales.max())
    start = rng.uniform(low, high)
    if kind == "pan":
        step = rng.normal(size=2)
        step *= settings.max_pan * max(src_hw) / (np.linalg.norm(step) + 1e-12)
        end = np.clip(start + step, low, high)
    else:
        end = start
    t = np.linspace(0.0, 1.0, n_frames)[:, None]
    centres = start + t * (end - start)
    shake = np.cumsum(rng.normal(scale=settings.shake_px, size=(n_frames, 2)), axis=0) * 0.5
    shake -= shake.mean(axis=0)
    matrices = []
    for (cx, cy), (dx, dy), scale in zip(centres, shake, scales):
        lo, hi = _centre_bounds(src_hw, out_wh, scale)
        c = np.clip(np.array([cx + dx * scale, cy + dy * scale]), lo, hi)
        matrices.append(view_matrix(c[0], c[1], float(scale), out_wh))
    return matrices
