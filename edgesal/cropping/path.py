"""The virtual camera of video reframing: per-frame crop centres and a smooth path (pure numpy).

:mod:`edgesal.cropping.reframe` predicts a map per frame and calls :func:`crop_centres`, then
:func:`smooth_path` (running median of the targets, holds still inside a dead band, pans with
bounded speed and acceleration, jumps at shot cuts), then :func:`window_at` for each frame's
rectangle.
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


def shot_spans(n: int, cuts: Iterable[int] = ()) -> list[tuple[int, int]]:
    """[start, end) of each shot of ``n`` frames; ``cuts`` are the first frames of new shots."""
    bounds = [0, *sorted({c for c in cuts if 0 < c < n}), n]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def stopping_speed(distance: float, max_accel: float) -> float:
    """The largest speed (px/frame) from which braking by ``max_accel`` per frame stops within ``distance``
    px: v + (v − a) + … ≤ distance ⇔ v² + a·v ≤ 2·a·distance."""
    a = max_accel
    return 0.5 * (-a + float(np.sqrt(a * a + 8.0 * a * max(distance, 0.0))))


def _follow(targets: np.ndarray, hold: float, max_speed: float, max_accel: float) -> np.ndarray:
    """One shot, one axis: a follower with hysteresis. Still until the target is more than ``hold``
    away; then it moves (bounded speed and acceleration, braking in time) until it is *on* the
    target, and is still again. Aiming at the target, not at the dead band's edge, means noise
    must exceed ``hold`` to start it again, and it turns back only for a target more than ``hold``
    behind it, so it does not dither back and forth."""
    pos, vel, moving = float(targets[0]), 0.0, False
    out = np.empty_like(targets)
    for t, target in enumerate(targets):
        error = target - pos
        moving = moving or abs(error) > hold
        if moving and vel * error < 0 and abs(error) <= hold:
            moving = False  # passed a target that stepped back less than hold: brake, do not turn
        wanted = np.sign(error) * min(max_speed, stopping_speed(abs(error), max_accel)) if moving else 0.0
        vel += float(np.clip(wanted - vel, -max_accel, max_accel))
        pos += vel
        out[t] = pos
        if moving and abs(vel) <= max_accel and abs(target - pos) <= max_accel:
            moving = False  # arrived: the next step brakes the last ≤ max_accel px/frame to 0
    return out


def median_targets(centres: np.ndarray, frames: int) -> np.ndarray:
    """Each axis of (T, 2) ``centres`` through a running median of ``frames`` (odd; 1 = unchanged),
    edges repeated: drops target flips shorter than half the window."""
    if frames <= 1 or len(centres) < 3:
        return centres
    from scipy.ndimage import median_filter

    return median_filter(centres, size=(frames | 1, 1), mode="nearest")


def smooth_path(centres: np.ndarray, hold: float, max_speed: float, max_accel: float,
                cuts: Iterable[int] = (), median: int = 1) -> np.ndarray:
    """Camera centres (T, 2) following ``centres``: still while the target stays within ``hold``
    px, otherwise moving at most ``max_speed`` px/frame with speed changing ≤ ``max_accel``
    px/frame² per frame until it is on the target; at each frame index in ``cuts`` the camera
    restarts on the target. ``median`` > 1: targets first pass a running median of that many
    frames within each shot (needs the whole shot: an offline, two-pass path)."""
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    path = np.empty_like(centres)
    for start, end in shot_spans(len(centres), cuts):
        targets = median_targets(centres[start:end], median)
        for axis in range(2):
            path[start:end, axis] = _follow(targets[:, axis], hold, max_speed, max_accel)
    return path


def window_at(centre: tuple[float, float], image_hw: tuple[int, int], aspect: str | Aspect,
              size_hw: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the largest ``aspect`` crop (or of ``size_hw``) centred on ``centre`` (x, y),
    clamped inside the image."""
    h, w = size_hw or crop_size(image_hw, parse_aspect(aspect))
    x = int(np.clip(round(centre[0] - w / 2), 0, image_hw[1] - w))
    y = int(np.clip(round(centre[1] - h / 2), 0, image_hw[0] - h))
    return x, y, w, h
