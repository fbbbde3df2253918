"""The one predictor interface: RGB image → saliency map at image size."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Predictor(ABC):
    """Anything that maps an image to a saliency map (higher = more salient).

    ``output_kind`` is ``"log_density"`` for probabilistic models (their
    ``predict_log_density`` gives a natural-log fixation density summing to 1 after exp),
    ``"sigmoid"`` for per-pixel probability maps and ``"saliency"`` for any other map.
    """

    name: str = "predictor"
    output_kind: str = "saliency"

    @abstractmethod
    def predict(self, image: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB → (H, W) float32 saliency map at the image's size."""

    def predict_log_density(self, image: np.ndarray) -> np.ndarray | None:
        """Log fixation density at image size, or None for non-probabilistic models."""
        return None

    def describe(self) -> dict:
        """Facts for reports (name, kind; subclasses add input size, source)."""
        return {"name": self.name, "output_kind": self.output_kind}


def density_to_log_density(density: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Sum-normalise a non-negative map and take the natural log."""
    density = np.asarray(density, dtype=np.float64) + eps
    return np.log(density / density.sum())


def sum_normalised(saliency: np.ndarray) -> np.ndarray:
    """A map as a density for mixing maps: negatives clipped to 0, divided by the sum (float64;
    an all-zero map stays zero)."""
    s = np.maximum(np.asarray(saliency, dtype=np.float64), 0.0)
    return s / max(float(s.sum()), 1e-12)
