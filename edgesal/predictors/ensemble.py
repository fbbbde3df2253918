"""Average several predictors (e.g. an ensemble of larger edgesal models as a teacher)."""

from __future__ import annotations

import numpy as np

from edgesal.predictors.base import Predictor, sum_normalised


class EnsemblePredictor(Predictor):
    """Mean of the members' maps, each sum-normalised first (a mixture of densities)."""

    output_kind = "saliency"

    def __init__(self, members: list[Predictor]):
        self.members = members
        self.name = "+".join(m.name for m in members)

    def predict(self, image: np.ndarray) -> np.ndarray:
        return np.mean([sum_normalised(m.predict(image)) for m in self.members], axis=0).astype(np.float32)
