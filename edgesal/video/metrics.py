"""Temporal stability of predicted maps relative to the ground truth's own change.

``change(a, b)`` is the total-variation distance between two maps seen as distributions:
``½ Σ |a/Σa − b/Σb|`` in [0, 1] (0: identical up to scale; 1: disjoint support). Over a clip,

    stability = Σ_t change(P_t, P_{t−1}) / Σ_t change(G_t, G_{t−1})

summed over consecutive *scored* frames of the same shot (pairs across a known cut are left
out), with P the predicted maps (at ground-truth size) and G the ground-truth densities.
1 means the prediction moves as much as human attention does; above 1 it flickers (it changes
where attention does not); below 1 it lags or is frozen. A ratio of sums, not a mean of
ratios, so nearly static ground truth does not blow it up. Per-frame accuracy (AUC, NSS, CC)
catches a model that is steady but wrong; this number catches one that is right on average but
jittery. NaN when the ground truth never changes.
"""

from __future__ import annotations

import numpy as np

from edgesal.imaging import resize_map

from .frame_models import as_probability


def change(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two maps as distributions (``b`` resized to ``a``'s shape)."""
    if b.shape != a.shape:
        b = resize_map(b, a.shape)
    return 0.5 * float(np.abs(as_probability(a).astype(np.float64) - as_probability(b)).sum())


class StabilityMeter:
    """Accumulates predicted and ground-truth change over a clip's frames (call ``add`` in order)."""

    def __init__(self) -> None:
        self.predicted = 0.0
        self.truth = 0.0
        self.pairs = 0
        self._last: tuple[np.ndarray, np.ndarray, object] | None = None

    def add(self, prediction: np.ndarray, truth: np.ndarray, shot: object = None) -> None:
        """One frame's prediction and ground-truth density; ``shot`` changes at a cut."""
        if prediction.shape != truth.shape:
            prediction = resize_map(prediction, truth.shape)
        if self._last is not None and self._last[2] == shot:
            self.predicted += change(prediction, self._last[0])
            self.truth += change(truth, self._last[1])
            self.pairs += 1
        self._last = (prediction, truth, shot)

    def reset(self) -> None:
        """A new clip: the next frame has no predecessor."""
        self._last = None

    @property
    def value(self) -> float:
        return self.predicted / self.truth if self.truth > 0 else float("nan")
