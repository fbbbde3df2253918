"""Horizontal-flip test-time averaging: a predictor seen on the image and on its mirror image.

People's gaze is close to mirror-symmetric in natural images, so the map of the mirrored image,
flipped back, is a second opinion about the same image; averaging the two (as densities: the
mean of the sum-normalised maps, a mixture) removes part of a model's left–right noise at twice
the cost. Any predictor can be wrapped (torch models, exported artefacts, peers).
"""

from __future__ import annotations

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.predictors.base import Predictor, sum_normalised

TTA_MODES = ("none", "hflip")


class FlipAveragePredictor(Predictor):
    """Mean of ``member``'s density on the image and on the mirrored image (flipped back)."""

    def __init__(self, member: Predictor):
        self.member = member
        self.name = f"{member.name}+hflip"
        self.output_kind = "log_density" if member.output_kind == "log_density" else "saliency"

    def _density(self, image: np.ndarray) -> np.ndarray:
        if self.member.output_kind == "log_density":
            maps = [np.exp(self.member.predict_log_density(im).astype(np.float64)) for im in (image, image[:, ::-1])]
        else:
            maps = [self.member.predict(im) for im in (image, image[:, ::-1])]
        return 0.5 * (sum_normalised(maps[0]) + sum_normalised(maps[1])[:, ::-1])

    def predict(self, image: np.ndarray) -> np.ndarray:
        return self._density(image).astype(np.float32)

    def predict_log_density(self, image: np.ndarray) -> np.ndarray | None:
        if self.output_kind != "log_density":
            return None
        return np.log(np.maximum(self._density(image), 1e-300)).astype(np.float32)

    def describe(self) -> dict:
        return {**self.member.describe(), "name": self.name, "output_kind": self.output_kind, "tta": "hflip"}


def with_tta(predictor: Predictor, tta: str | None) -> Predictor:
    """``predictor`` wrapped for test-time augmentation ``tta`` (``none``/None: unchanged)."""
    if tta in (None, "none"):
        return predictor
    if tta == "hflip":
        return FlipAveragePredictor(predictor)
    raise EdgesalError(f"unknown test-time augmentation {tta!r} (choose from {', '.join(TTA_MODES)})")
