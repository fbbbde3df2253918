"""Shot-cut detection on decoded frames: colour-histogram change between consecutive frames.

Each frame gets a coarse joint RGB histogram (:data:`BINS`³ bins, every :data:`SUBSAMPLE`-th
pixel in both directions), normalised to sum 1. The change between two frames is the
total-variation distance of their histograms, ``½ Σ |h_t − h_{t−1}|`` in [0, 1] (0: same colour
distribution, 1: no colour in common). Frame ``t`` starts a new shot when its change is

- above ``threshold`` (default 0.4), **and**
- above ``ratio`` (default 3) times the median change of the last ``window`` (default 12)
  frames of the current shot,

so a cut is a change both large in itself and large for this clip: pans, zooms and shake move
colours between bins slowly (changes of a few hundredths), while a cut to another scene
replaces the distribution. Histograms ignore where colours are, so a cut between two shots
of the same colours (the same scene from a nearby angle) is missed; flashes and fades can
give false or late cuts. Measured on simulated clips in docs/results/crop.md.
"""

from __future__ import annotations

from collections import deque

import numpy as np

#: histogram bins per colour channel
BINS = 8
#: pixel step of the histogram (every 4th row and column)
SUBSAMPLE = 4
CUT_THRESHOLD = 0.4
CUT_RATIO = 3.0
CUT_WINDOW = 12


def colour_histogram(image: np.ndarray, bins: int = BINS, step: int = SUBSAMPLE) -> np.ndarray:
    """Normalised joint RGB histogram (``bins``³ entries) of an (H, W, 3) uint8 image."""
    pixels = np.asarray(image, dtype=np.uint8)[::step, ::step].reshape(-1, 3).astype(np.int64)
    levels = pixels * bins // 256
    codes = (levels[:, 0] * bins + levels[:, 1]) * bins + levels[:, 2]
    counts = np.bincount(codes, minlength=bins ** 3).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def histogram_change(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance ½ Σ |a − b| of two normalised histograms, in [0, 1]."""
    return 0.5 * float(np.abs(a - b).sum())


class CutDetector:
    """Feed frames in order with :meth:`update`; it returns True on the first frame of a new shot."""

    def __init__(self, threshold: float = CUT_THRESHOLD, ratio: float = CUT_RATIO, window: int = CUT_WINDOW) -> None:
        self.threshold, self.ratio = threshold, ratio
        self._recent: deque[float] = deque(maxlen=window)
        self._last: np.ndarray | None = None
        self.last_change = 0.0

    def update(self, image: np.ndarray) -> bool:
        """True if ``image`` starts a new shot (never for the first frame)."""
        hist = colour_histogram(image)
        previous, self._last = self._last, hist
        if previous is None:
            return False
        self.last_change = change = histogram_change(hist, previous)
        typical = float(np.median(self._recent)) if self._recent else 0.0
        cut = change > self.threshold and change > self.ratio * typical
        if cut:
            self._recent.clear()
        else:
            self._recent.append(change)
        return cut

    def settings(self) -> dict:
        return {"measure": "colour-histogram total variation", "bins": BINS, "threshold": self.threshold,
                "ratio": self.ratio, "window": self._recent.maxlen}
