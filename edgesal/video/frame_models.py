"""Frame models: a stateful frame → map interface, and any image model run per frame with optional smoothing.

A :class:`FrameModel` sees a clip's frames in order: ``reset()`` at the start of every clip
(and after a cut, where known), then ``predict(frame)`` per frame. An image model is
stateless; temporal smoothing and (later) temporal students keep their state here.

Smoothing (``smooth=α``, 0 < α ≤ 1) is an exponential moving average of the *sum-normalised*
maps: ``s_t = α·p_t + (1 − α)·s_{t−1}``, ``p_t = m_t / Σ m_t`` (maps first shifted to a minimum
of 0). It averages probability maps (a mixture of densities), so it is scale-free across frames;
α = 1 is no smoothing; the effective memory is about 1/α frames. Smoothed maps are densities
(they sum to 1).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.predictors.base import Predictor


class FrameModel(ABC):
    """Maps a clip's frames, in order, to saliency maps at frame size."""

    name: str = "frame-model"

    def reset(self) -> None:  # noqa: B027 - stateless models need no reset
        """Forget the state (a new clip starts)."""

    @abstractmethod
    def predict(self, frame: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB frame → (H, W) float32 map."""

    def describe(self) -> dict:
        return {"name": self.name}


def as_probability(saliency: np.ndarray) -> np.ndarray:
    """A map shifted to a minimum of 0 and divided by its sum (uniform if it is constant)."""
    s = np.asarray(saliency, dtype=np.float64)
    s = s - s.min()
    total = s.sum()
    return (s / total if total > 0 else np.full_like(s, 1.0 / s.size)).astype(np.float32)


def check_smooth(alpha: float | None) -> float | None:
    """``alpha`` if it is None or in (0, 1], else a one-line error."""
    if alpha is not None and not (0.0 < alpha <= 1.0):
        raise EdgesalError(f"--smooth must be in (0, 1] (the weight of the newest frame), got {alpha}")
    return alpha


def ema_update(state: np.ndarray | None, saliency: np.ndarray, alpha: float) -> np.ndarray:
    """One step of the smoothing EMA: ``α·p + (1 − α)·state`` (``p`` the sum-normalised map; the
    first frame, or a frame of another size, starts it)."""
    current = as_probability(saliency)
    if state is None or state.shape != current.shape:
        return current
    return alpha * current + (1.0 - alpha) * state


def finish_map(saliency: np.ndarray, name: str, state: np.ndarray | None,
               smooth: float | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(the map to return, the new EMA state): ``saliency`` checked finite, then smoothed if ``smooth``."""
    if not np.isfinite(saliency).all():
        raise EdgesalError(f"the model {name} gave non-finite values")
    if smooth is None:
        return saliency, state
    state = ema_update(state, saliency, smooth)
    return state, state


class PerFrameModel(FrameModel):
    """An image :class:`Predictor` applied to every frame, optionally smoothed over time (EMA)."""

    def __init__(self, predictor: Predictor, smooth: float | None = None) -> None:
        self.predictor = predictor
        self.smooth = check_smooth(smooth)
        self.name = predictor.name + (f"+ema{smooth:g}" if smooth is not None else "")
        self._state: np.ndarray | None = None

    def reset(self) -> None:
        self._state = None

    def predict(self, frame: np.ndarray) -> np.ndarray:
        saliency = np.asarray(self.predictor.predict(frame), dtype=np.float32)
        result, self._state = finish_map(saliency, self.predictor.name, self._state, self.smooth)
        return result

    def describe(self) -> dict:
        return {**self.predictor.describe(), "name": self.name, "smooth": self.smooth}
