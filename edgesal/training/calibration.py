"""Temperature calibration of log-density students on the validation split.

A distilled density model is often over-confident (too peaky): its validation
log-likelihood rises when the pre-softmax scores are scaled by a factor a < 1. We fit the
scalar a ("sharpness", the inverse temperature) that maximises the mean validation
log-likelihood of the real fixations (a bounded 1-D search) and store it in the readout
head, so every runtime and export sees the calibrated density.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from edgesal.training.arrays import TrainingArrays
from edgesal.training.batches import make_batch


@torch.no_grad()
def validation_log_densities(model: torch.nn.Module, arrays: TrainingArrays, spec, batch: int = 16) -> np.ndarray:
    """(N, h, w) log-densities of the labelled validation images, at sharpness 1."""
    head = model.head
    saved = head.sharpness.clone()
    head.sharpness.fill_(1.0)
    model.eval()
    out = []
    idx_all = np.flatnonzero(arrays.labelled)
    for start in range(0, len(idx_all), batch):
        idx = idx_all[start:start + batch]
        out.append(model(make_batch(arrays, idx, spec.mean, spec.std)["image"])[:, 0].double().numpy())
    head.sharpness.copy_(saved)
    return np.concatenate(out)


def mean_log_likelihood(log_density: np.ndarray, fixations: np.ndarray, sharpness: float) -> float:
    """Mean bits/fixation over uniform of the rescaled density ``softmax(a · log p)``."""
    scaled = sharpness * log_density
    flat = scaled.reshape(len(scaled), -1)
    top = flat.max(axis=1, keepdims=True)
    log_norm = top + np.log(np.exp(flat - top).sum(axis=1, keepdims=True))
    logp = (flat - log_norm).reshape(scaled.shape)
    fix = fixations.reshape(scaled.shape)
    ll = (fix * logp).sum() / fix.sum() + np.log(log_density[0].size)
    return float(ll / np.log(2))


def calibrate_sharpness(model: torch.nn.Module, arrays: TrainingArrays, spec,
                        bounds: tuple[float, float] = (0.1, 3.0)) -> dict:
    """Fit and set ``model.head.sharpness``; returns the value and the LL before/after."""
    logd = validation_log_densities(model, arrays, spec)
    fix = arrays.fixations[arrays.labelled]
    result = minimize_scalar(lambda a: -mean_log_likelihood(logd, fix, a), bounds=bounds, method="bounded",
                             options={"xatol": 1e-3})
    a = float(result.x)
    model.head.sharpness.fill_(a)
    return {"sharpness": a, "val_ll_before": mean_log_likelihood(logd, fix, 1.0), "val_ll_after": -float(result.fun)}
