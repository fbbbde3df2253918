"""Preprocessed training arrays at the model's input size, cached on disk as ``.npz``.

Per image: RGB uint8 resized to (h, w); fixation counts on the (h, w) grid (points scaled);
GT density resized and renormalised (zeros for unlabeled images); and, when a teacher cache
is given, the teacher map resized to (h, w) (``A+B``: the ensemble of several caches).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgesal.atomic import atomic_path
from edgesal.imaging import resize_map, resize_rgb
from edgesal.training.pseudolabel import read_teacher_target
from edgesal.training.sources import ImageSource


@dataclass
class TrainingArrays:
    keys: list[str]
    images: np.ndarray  # (N, h, w, 3) uint8
    fixations: np.ndarray  # (N, h, w) float32 counts
    density: np.ndarray  # (N, h, w) float32, sums to 1 (0 for unlabeled)
    labelled: np.ndarray  # (N,) bool
    teacher: np.ndarray | None = None  # (N, h, w) float32 in [0, 1]

    def __len__(self) -> int:
        return len(self.keys)

    @staticmethod
    def concat(parts: list[TrainingArrays]) -> TrainingArrays:
        teachers = [p.teacher for p in parts]
        return TrainingArrays(
            keys=[k for p in parts for k in p.keys],
            images=np.concatenate([p.images for p in parts]),
            fixations=np.concatenate([p.fixations for p in parts]),
            density=np.concatenate([p.density for p in parts]),
            labelled=np.concatenate([p.labelled for p in parts]),
            teacher=None if any(t is None for t in teachers) else np.concatenate(teachers),
        )


def fixation_counts(fixations: np.ndarray, image_hw: tuple[int, int], grid_hw: tuple[int, int]) -> np.ndarray:
    """Count fixations (x, y in image pixels) on a (h, w) grid."""
    h, w = grid_hw
    counts = np.zeros(grid_hw, dtype=np.float32)
    if len(fixations):
        xs = np.clip((fixations[:, 0] + 0.5) * w / image_hw[1], 0, w - 1e-6).astype(int)
        ys = np.clip((fixations[:, 1] + 0.5) * h / image_hw[0], 0, h - 1e-6).astype(int)
        np.add.at(counts, (ys, xs), 1.0)
    return counts


def _source_arrays(source: ImageSource, input_hw: tuple[int, int], progress: bool) -> TrainingArrays:
    items = source.items()
    n = len(items)
    images = np.zeros((n, *input_hw, 3), np.uint8)
    fix = np.zeros((n, *input_hw), np.float32)
    dens = np.zeros((n, *input_hw), np.float32)
    for i, item in enumerate(tqdm(items, desc=f"prepare {source.spec}", unit="img", disable=not progress)):
        if source.labelled:
            sample = source.dataset.load(item.stem)
            images[i] = resize_rgb(sample.image, input_hw)
            fix[i] = fixation_counts(sample.fixations, sample.size, input_hw)
            d = np.maximum(resize_map(sample.density, input_hw), 0)
            dens[i] = d / max(d.sum(), 1e-12)
        else:
            images[i] = resize_rgb(source.image(item.stem), input_hw)
    return TrainingArrays([it.key for it in items], images, fix, dens, np.full(n, source.labelled))


def load_training_arrays(specs: list[str], input_hw: tuple[int, int], cache_dir: str | Path = "runs/cache",
                         teacher_cache: str | Path | None = None, progress: bool = True) -> TrainingArrays:
    """Arrays for all sources (each cached as npz), plus teacher maps if a cache is given."""
    cache_dir = Path(cache_dir)
    parts = []
    for spec in specs:
        source = ImageSource(spec)
        digest = hashlib.sha1(f"{spec}|{input_hw}".encode()).hexdigest()[:10]
        path = cache_dir / f"{source.label}_{input_hw[0]}x{input_hw[1]}_{digest}.npz"
        if path.exists():
            z = np.load(path, allow_pickle=False)
            arrays = TrainingArrays(list(z["keys"]), z["images"], z["fixations"], z["density"], z["labelled"])
        else:
            arrays = _source_arrays(source, input_hw, progress)
            with atomic_path(path) as tmp, tmp.open("wb") as f:
                np.savez(f, keys=np.array(arrays.keys), images=arrays.images, fixations=arrays.fixations,
                         density=arrays.density, labelled=arrays.labelled)
        parts.append(arrays)
    arrays = TrainingArrays.concat(parts)
    if teacher_cache is not None:
        arrays.teacher = np.stack([read_teacher_target(teacher_cache, key, input_hw) for key in arrays.keys])
    return arrays
