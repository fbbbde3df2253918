"""Average several predictors (e.g. an ensemble of larger edgesal models as a teacher)."""

from __future__ import annotations

import numpy as np

from edgesal.predictors.base import Predictor


class EnsemblePredictor(Predictor):
    """Mean of the members' maps, each sum-normalised first (a mixture of densities)."""

    output_kind = "saliency"

    def __init__(self, members: list[Predictor]):
        self.members = members
        self.name = "+".join(m.name for m in members)

    def predict(self, image: np.ndarray) -> np.ndarray:
        maps = [np.maximum(m.predict(image), 0).astype(np.float64) for m in self.members]
        return np.mean([m / max(m.sum(), 1e-12) for m in maps], axis=0).astype(np.float32)
