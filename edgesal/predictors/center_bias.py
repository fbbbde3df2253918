"""Center-bias baselines: a fixed Gaussian, and a prior fitted to training fixations.

Gaussian: anisotropic, centred, σ_x = ``sigma_frac``·W and σ_y = ``sigma_frac``·H
(default 0.25). Fitted: a ``grid``×``grid`` histogram of the training split's fixations in
normalised image coordinates, blurred (σ = ``blur_bins`` bins) and mixed with 1e-3 uniform
mass so its log is finite, then bilinearly resized to each image. Both are proper densities,
so they also give a log-likelihood.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from edgesal.errors import EdgesalError
from edgesal.imaging import resize_map
from edgesal.predictors.base import Predictor, density_to_log_density
from edgesal.predictors.registry import register_predictor


def gaussian_center_bias(size_hw: tuple[int, int], sigma_frac: float = 0.25) -> np.ndarray:
    """Centred anisotropic Gaussian density (sums to 1)."""
    h, w = size_hw
    ys = (np.arange(h) + 0.5) / h - 0.5
    xs = (np.arange(w) + 0.5) / w - 0.5
    g = np.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2) / sigma_frac**2)
    return (g / g.sum()).astype(np.float32)


def fit_center_prior(points01: np.ndarray, grid: int = 64, blur_bins: float = 2.0,
                     uniform_mix: float = 1e-3) -> np.ndarray:
    """Histogram of normalised (x, y) points in [0, 1]² → smoothed (grid, grid) density."""
    if len(points01) == 0:
        raise EdgesalError("cannot fit a center bias: the training split has no fixations")
    hist, _, _ = np.histogram2d(
        np.clip(points01[:, 1], 0, 1 - 1e-9), np.clip(points01[:, 0], 0, 1 - 1e-9),
        bins=grid, range=[[0, 1], [0, 1]],
    )
    hist = gaussian_filter(hist, blur_bins, mode="nearest")
    hist = hist / hist.sum()
    return ((1 - uniform_mix) * hist + uniform_mix / hist.size).astype(np.float32)


class CenterBiasPredictor(Predictor):
    """A fixed prior map (Gaussian or fitted), resized to each image."""

    output_kind = "log_density"

    def __init__(self, name: str, prior: np.ndarray | None = None, sigma_frac: float = 0.25):
        self.name = name
        self.prior = prior
        self.sigma_frac = sigma_frac

    def _density(self, size_hw: tuple[int, int]) -> np.ndarray:
        if self.prior is None:
            return gaussian_center_bias(size_hw, self.sigma_frac)
        dens = np.maximum(resize_map(self.prior, size_hw), 0)
        return dens / dens.sum()

    def predict(self, image: np.ndarray) -> np.ndarray:
        return self._density(image.shape[:2])

    def predict_log_density(self, image: np.ndarray) -> np.ndarray:
        return density_to_log_density(self._density(image.shape[:2]))

    def describe(self) -> dict:
        return {**super().describe(), "prior": "gaussian" if self.prior is None else "fitted"}


def center_bias_of(dataset, name: str = "center-bias-fitted") -> CenterBiasPredictor:
    """Fit the prior on all fixations of an opened dataset (or split)."""
    points = [dataset.fixations_normalised(stem) for stem in dataset.stems()]
    prior = fit_center_prior(np.concatenate(points) if points else np.zeros((0, 2)))
    return CenterBiasPredictor(name, prior=prior)


def fitted_center_bias(data: str, name: str = "center-bias-fitted") -> CenterBiasPredictor:
    """Fit the prior on the training split of dataset ``data`` (name or folder)."""
    from edgesal.data import open_dataset

    return center_bias_of(open_dataset(data, split="train"), name)


@register_predictor("center-bias", "Gaussian center bias (σ = 0.25 of width/height)")
def _gaussian(**_: object) -> Predictor:
    return CenterBiasPredictor("center-bias")


@register_predictor(
    "center-bias-fitted",
    "center bias fitted to the training split of --data (2-D histogram of fixations)",
)
def _fitted(data: str | None = None, **_: object) -> Predictor:
    if data is None:
        raise EdgesalError("center-bias-fitted needs a dataset (--data) to fit its prior on")
    return fitted_center_bias(data)
