"""Hook for video reframing: per-frame crop centres and a smooth virtual-camera path (pure numpy).

A video command reads frames, predicts a map per frame, and calls :func:`crop_centres`, then
:func:`smooth_path` (holds still inside a dead band, pans with bounded speed and
acceleration, jumps at shot cuts), then :func:`window_at` for each frame's rectangle.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from edgesal.cropping.aspect import Aspect, crop_size, parse_aspect
from edgesal.cropping.search import best_crop


def crop_centres(maps: Iterable[np.ndarray], aspect: str | Aspect, **search) -> np.ndarray:
    """(T, 2) centres (x, y) of each frame's best crop (``search``: options of ``best_crop``)."""
    crops = [best_crop(m, aspect, **search) for m in maps]
    return np.array([(c.x + c.w / 2, c.y + c.h / 2) for c in crops], dtype=np.float64).reshape(-1, 2)


def _follow(targets: np.ndarray, hold: float, max_speed: float, max_accel: float) -> np.ndarray:
    """One shot, one axis: a follower with a dead band that can always stop in time (no overshoot)."""
    pos, vel = float(targets[0]), 0.0
    out = np.empty_like(targets)
    for t, target in enumerate(targets):
        error = target - pos
        excess = max(abs(error) - hold, 0.0)
        wanted = np.sign(error) * min(max_speed, np.sqrt(2.0 * max_accel * excess))
        vel += float(np.clip(wanted - vel, -max_accel, max_accel))
        pos += vel
        out[t] = pos
    return out


def smooth_path(centres: np.ndarray, hold: float, max_speed: float, max_accel: float,
                cuts: Iterable[int] = ()) -> np.ndarray:
    """Camera centres (T, 2) following ``centres``: still while the target stays within ``hold``
    px, otherwise moving at most ``max_speed`` px/frame with speed changing ≤ ``max_accel``
    px/frame² per frame; at each frame index in ``cuts`` the camera restarts on the target."""
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(centres)}), len(centres)]
    path = np.empty_like(centres)
    for start, end in itertools.pairwise(bounds):
        for axis in range(2):
            path[start:end, axis] = _follow(centres[start:end, axis], hold, max_speed, max_accel)
    return path


def window_at(centre: tuple[float, float], image_hw: tuple[int, int],
              aspect: str | Aspect) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the largest ``aspect`` crop centred on ``centre`` (x, y), clamped inside the image."""
    h, w = crop_size(image_hw, parse_aspect(aspect))
    x = int(np.clip(round(centre[0] - w / 2), 0, image_hw[1] - w))
    y = int(np.clip(round(centre[1] - h / 2), 0, image_hw[0] - h))
    return x, y, w, h
