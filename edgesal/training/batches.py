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


class BatchStream:
    """Deterministic batches by global step (so a resumed run sees the same batches).

    Step ``s`` is batch ``s mod steps_per_epoch`` of epoch ``s // steps_per_epoch`` in
    :func:`epoch_order`; with ``hflip`` each item is flipped with probability ½ from a
    generator seeded by ``(seed, s, flip_key)`` (``flip_key`` defaults to the rank).
    """

    def __init__(self, arrays: TrainingArrays, mean, std, batch: int, seed: int, hflip: bool,
                 rank: int = 0, world: int = 1, flip_key: int | None = None):
        self.arrays, self.mean, self.std, self.batch = arrays, mean, std, batch
        self.seed, self.hflip, self.rank, self.world = seed, hflip, rank, world
        self.flip_key = rank if flip_key is None else flip_key
        self.steps_per_epoch = max(len(epoch_order(len(arrays), seed, 0, rank, world)) // batch, 1)

    def get(self, step: int) -> dict:
        """The batch of global step ``step``."""
        epoch, within = divmod(step, self.steps_per_epoch)
        order = epoch_order(len(self.arrays), self.seed, epoch, self.rank, self.world)
        idx = order[within * self.batch:(within + 1) * self.batch]
        if len(idx) == 0:
            idx = order[: self.batch]
        flip = None
        if self.hflip:
            flip = np.random.default_rng([self.seed, step, self.flip_key]).random(len(idx)) < 0.5
        return make_batch(self.arrays, idx, self.mean, self.std, flip)
