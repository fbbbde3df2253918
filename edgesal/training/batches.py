"""Mini-batches from ``TrainingArrays``: deterministic per-epoch order, sharded by rank."""

from __future__ import annotations

import numpy as np
import torch

from edgesal.training.arrays import TrainingArrays


def epoch_order(n: int, seed: int, epoch: int, rank: int = 0, world: int = 1) -> np.ndarray:
    """Permutation of ``n`` items for one epoch (same on every rank), this rank's shard."""
    order = np.random.default_rng(seed + 1000 * epoch).permutation(n)
    usable = (n // world) * world
    return order[:usable][rank::world]


def make_batch(arrays: TrainingArrays, idx: np.ndarray, mean, std, flip: np.ndarray | None = None) -> dict:
    """Tensors for the given indices (optional per-item horizontal flips).

    Unlabeled images (no fixations) use the teacher map as their density target.
    """
    images = arrays.images[idx].astype(np.float32) / 255.0
    fix = arrays.fixations[idx]
    dens = arrays.density[idx]
    teacher = arrays.teacher[idx] if arrays.teacher is not None else None
    unlabeled = ~arrays.labelled[idx]
    if teacher is not None and unlabeled.any():
        t = teacher[unlabeled].astype(np.float32)
        dens = dens.copy()
        dens[unlabeled] = t / np.maximum(t.sum(axis=(1, 2), keepdims=True), 1e-12)
    if flip is not None and flip.any():
        images, fix, dens = images.copy(), fix.copy(), dens.copy()
        images[flip] = images[flip][:, :, ::-1]
        fix[flip] = fix[flip][:, :, ::-1]
        dens[flip] = dens[flip][:, :, ::-1]
        if teacher is not None:
            teacher = teacher.copy()
            teacher[flip] = teacher[flip][:, :, ::-1]
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    return {
        "image": x.contiguous(),
        "fixation_map": torch.from_numpy(np.ascontiguousarray(fix)),
        "density": torch.from_numpy(np.ascontiguousarray(dens)),
        "teacher": None if teacher is None else torch.from_numpy(np.ascontiguousarray(teacher, dtype=np.float32)),
    }
