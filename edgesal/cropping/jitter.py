"""Jitter of a virtual-camera path: how much a crop window shakes, measured on its centre (pure numpy).

Computed within shots only (a frame pair or triple that spans a cut is left out: a cut is a
deliberate jump):

- ``jitter_per_s`` (the headline number): *oscillation* reversals per second of video. A
  reversal is a sign change between consecutive moving steps of one axis (|step| ≥
  ``min_step`` px, default 0.5); it is jitter when it comes within ``window_s`` (0.5 s) of the
  previous reversal of that axis, i.e. the window swings back and forth at ≥ 1 Hz. A still
  camera, a pan, and a pan that turns back once (a re-aim) give 0; a window that follows every
  wobble of a per-frame crop gives several per second. "No jitter" means 0.
- ``reversals_per_s``: all direction reversals per second (re-aims included).
- ``accel``: mean magnitude of the second difference of the centre,
  ``‖c[t+1] − 2·c[t] + c[t−1]‖`` in pixels / frame² (0 for a still camera or a constant-speed pan).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from edgesal.cropping.path import shot_spans

#: steps smaller than this (pixels / frame) count as standing still for reversals
MIN_STEP = 0.5
#: a reversal this soon (seconds) after the previous one is oscillation (jitter), not a re-aim
JITTER_WINDOW_S = 0.5


@dataclass(frozen=True)
class PathJitter:
    """Jitter of one path: mean |second difference| (px/frame²), oscillation reversals (within
    ``window_s`` of the previous reversal) and all direction reversals, per second."""

    accel: float
    jitter_per_s: float
    reversals_per_s: float
    jitter_reversals: int
    reversals: int
    frames: int

    def to_json(self) -> dict:
        return {"accel_px_per_frame2": round(self.accel, 4), "jitter_per_s": round(self.jitter_per_s, 4),
                "reversals_per_s": round(self.reversals_per_s, 4), "jitter_reversals": self.jitter_reversals,
                "reversals": self.reversals, "frames": self.frames}


def _reversals(steps: np.ndarray, min_step: float, within: int) -> tuple[int, int]:
    """(all direction reversals, reversals within ``within`` frames of the previous reversal) of one axis."""
    moving = np.flatnonzero(np.abs(steps) >= min_step)
    signs = np.sign(steps[moving])
    at = moving[1:][signs[1:] != signs[:-1]]  # step index where each reversal lands
    return len(at), int(np.count_nonzero(np.diff(at) <= within))


def path_jitter(centres: np.ndarray, fps: float, cuts: Iterable[int] = (), min_step: float = MIN_STEP,
                window_s: float = JITTER_WINDOW_S) -> PathJitter:
    """Jitter of the (T, 2) centre path ``centres`` (x, y pixels) played at ``fps`` frames per second."""
    centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive, got {fps}")
    within = max(1, round(window_s * fps))
    accels: list[np.ndarray] = []
    reversals = quick = 0
    for start, end in shot_spans(len(centres), cuts):
        shot = centres[start:end]
        if len(shot) >= 3:
            accels.append(np.linalg.norm(np.diff(shot, n=2, axis=0), axis=1))
        steps = np.diff(shot, axis=0)
        for axis in range(2):
            every, fast = _reversals(steps[:, axis], min_step, within)
            reversals, quick = reversals + every, quick + fast
    accel = float(np.concatenate(accels).mean()) if accels else 0.0
    seconds = len(centres) / fps
    return PathJitter(accel, quick / seconds if seconds > 0 else 0.0, reversals / seconds if seconds > 0 else 0.0,
                      quick, reversals, len(centres))


def window_centres(windows: np.ndarray) -> np.ndarray:
    """(T, 2) centres of (T, 4) windows x, y, w, h."""
    windows = np.asarray(windows, dtype=np.float64).reshape(-1, 4)
    return windows[:, :2] + windows[:, 2:] / 2
