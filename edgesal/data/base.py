"""The one dataset interface every loader implements.

Conventions (all loaders):
- images are RGB ``uint8`` arrays of shape (H, W, 3);
- fixations are a float64 array of shape (N, 3): columns x (column), y (row), observer id,
  in **0-based pixel coordinates of the returned image** (pixel centres at integers);
- the density map is float32 (H, W), non-negative, summing to 1.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Sample:
    """One image with its eye-tracking data."""

    stem: str
    image_path: Path
    image: np.ndarray  # (H, W, 3) uint8 RGB
    fixations: np.ndarray  # (N, 3) float64: x, y, observer
    density: np.ndarray  # (H, W) float32, sums to 1
    meta: dict = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the image."""
        return self.image.shape[0], self.image.shape[1]

    def fixation_map(self) -> np.ndarray:
        """Binary (H, W) map with True at every fixated pixel (MIT-benchmark convention)."""
        h, w = self.size
        fmap = np.zeros((h, w), dtype=bool)
        if len(self.fixations):
            xs = np.clip(np.round(self.fixations[:, 0]).astype(int), 0, w - 1)
            ys = np.clip(np.round(self.fixations[:, 1]).astype(int), 0, h - 1)
            fmap[ys, xs] = True
        return fmap


class SaliencyDataset(ABC):
    """A set of images with fixations, addressed by stem."""

    name: str = "dataset"

    @abstractmethod
    def stems(self) -> list[str]:
        """All image stems in a stable order."""

    @abstractmethod
    def load(self, stem: str) -> Sample:
        """Load one image, its fixations and its density map."""

    def image_size(self, stem: str) -> tuple[int, int]:
        """(height, width) of one image. Loaders override this to avoid decoding pixels."""
        return self.load(stem).size

    def fixations_normalised(self, stem: str) -> np.ndarray:
        """(N, 2) float64 fixation positions x / W, y / H in [0, 1).

        Loaders override this to avoid loading the image (shuffled-AUC negatives, fitting a
        center-bias prior over a whole split).
        """
        sample = self.load(stem)
        h, w = sample.size
        fix = sample.fixations
        if len(fix) == 0:
            return np.zeros((0, 2), dtype=np.float64)
        return np.column_stack([fix[:, 0] / w, fix[:, 1] / h])

    def __len__(self) -> int:
        return len(self.stems())

    def __iter__(self):
        for stem in self.stems():
            yield self.load(stem)
