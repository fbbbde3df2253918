"""What the training loop needs from its data, for each kind of training data.

A data kind turns a :class:`TrainConfig` into a :class:`TrainingData`: a deterministic batch
stream by global step (so a resumed run sees the same batches), the validation batches, and
what the model's initialisation and calibration need. ``images`` (the default) reads image
sources into :class:`TrainingArrays`; ``clips`` (:mod:`edgesal.video.training`) reads video
datasets into clip windows for temporal students. Kinds are "module:function" strings, loaded
only when used (like the export table's converters).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.models.registry import ModelSpec
from edgesal.training.arrays import TrainingArrays, load_training_arrays
from edgesal.training.batches import BatchStream, make_batch
from edgesal.training.config import TrainConfig

DATA_KINDS: dict[str, str] = {
    "images": "edgesal.training.data:image_data",
    "clips": "edgesal.video.training:clip_data",
}


@dataclass
class TrainingData:
    """A batch stream (``get(step)``, ``steps_per_epoch``), validation batches and extras."""

    stream: object
    val_batches: Callable[[], Iterator[dict]]
    n_train: int
    fixation_counts: np.ndarray  # (h, w) training fixation counts: a readout's initial centre bias
    calibration: TrainingArrays | None = None  # validation images for the readout's sharpness (None: skip)


def array_batches(arrays: TrainingArrays, spec: ModelSpec, batch: int = 16) -> Iterator[dict]:
    """The arrays in order as unaugmented batches."""
    for start in range(0, len(arrays), batch):
        yield make_batch(arrays, np.arange(start, min(start + batch, len(arrays))), spec.mean, spec.std)


def image_data(cfg: TrainConfig, spec: ModelSpec, rank: int, world: int, progress: bool) -> TrainingData:
    """Image sources (``NAME[:SPLIT]``, ``images:DIR``) as preprocessed arrays."""
    train = load_training_arrays(cfg.train, spec.input_hw, cfg.cache_dir, cfg.teacher_cache, progress)
    val = load_training_arrays(cfg.val, spec.input_hw, cfg.cache_dir, cfg.teacher_cache, progress)
    stream = BatchStream(train, spec.mean, spec.std, cfg.batch, cfg.seed, cfg.hflip, rank, world)
    counts = train.fixations[train.labelled].sum(axis=0)
    return TrainingData(stream, lambda: array_batches(val, spec), len(train), counts, val)


def load_training_data(cfg: TrainConfig, spec: ModelSpec, rank: int = 0, world: int = 1,
                       progress: bool = True) -> TrainingData:
    """The :class:`TrainingData` of ``cfg.data_kind``."""
    if cfg.data_kind not in DATA_KINDS:
        raise EdgesalError(f"unknown training data kind {cfg.data_kind!r} (choose from {', '.join(DATA_KINDS)})")
    module, _, function = DATA_KINDS[cfg.data_kind].partition(":")
    return getattr(importlib.import_module(module), function)(cfg, spec, rank, world, progress)
