"""Training data for temporal students (``data_kind = "clips"``) and the coupled distillation loss.

Sources are video datasets (``edgesal simulate-video`` folders, or ``NAME[:SPLIT]``). Every frame
is resized to the student's input size and carries: its fixation counts, the *spatial teacher*
map (``cfg.teacher`` run on the full-resolution frame, min–max scaled) and the *temporal
teacher* map (an EMA of the spatial teacher's sum-normalised full-resolution maps with weight
``cfg.teacher_smooth``, restarted at every known cut — :func:`~.frame_models.ema_update`).
Both are cached per source as ``.npz`` in ``cfg.cache_dir`` (keyed by source, size, teacher
and weight), so a resumed or repeated run does not recompute them.

Training batches are windows of ``cfg.clip_frames`` consecutive frames at a random offset of
random clips (deterministic from ``(seed, step)``; windows may span a cut, so the student
learns to reset), flipped horizontally as a whole with probability ½. ``image`` is
(B, T, 3, H, W); the targets are flattened to (B·T, H, W), frame-major per clip, matching
``TemporalSaliencyNet.forward_clip``. Validation uses whole clips in order.

``coupled_distillation`` (Li et al.'s coupled knowledge distillation, adapted): the fused
output learns the temporal teacher, the spatial path's own output learns the spatial teacher,
and the fused output the fixations: ``0.1·NLL(fix, fused) + 0.45·H(temporal, fused) +
0.45·H(spatial, spatial_path)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from edgesal.atomic import atomic_path
from edgesal.errors import EdgesalError
from edgesal.imaging import resize_map, resize_rgb
from edgesal.losses import LOSSES, density_cross_entropy, fixation_nll
from edgesal.models.registry import ModelSpec
from edgesal.training.arrays import fixation_counts
from edgesal.training.batches import epoch_order
from edgesal.training.config import TrainConfig
from edgesal.training.data import TrainingData
from edgesal.training.pseudolabel import load_teacher

from .datasets import open_video_dataset
from .frame_models import ema_update

FIELDS = ("images", "fixations", "shots", "teacher", "temporal")


@dataclass
class ClipArrays:
    """N clips of T frames at the input size (h, w)."""

    images: np.ndarray  # (N, T, h, w, 3) uint8
    fixations: np.ndarray  # (N, T, h, w) float16 counts
    shots: np.ndarray  # (N, T) int32 shot index (a cut changes it)
    teacher: np.ndarray  # (N, T, h, w) float16, spatial teacher, min-max [0, 1]
    temporal: np.ndarray  # (N, T, h, w) float16, temporal teacher (sums to 1 per frame at full size)

    def __len__(self) -> int:
        return len(self.images)

    @staticmethod
    def concat(parts: list[ClipArrays]) -> ClipArrays:
        """All clips, cut to the shortest clip length."""
        t = min(p.images.shape[1] for p in parts)
        return ClipArrays(*(np.concatenate([getattr(p, f)[:, :t] for p in parts]) for f in FIELDS))


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def _clip_frames(frames, teacher, input_hw: tuple[int, int], alpha: float) -> list[tuple]:
    """(image, counts, shot, spatial map, temporal map) per frame of one clip."""
    rows, state, shot = [], None, object()
    for sample in frames:
        raw = np.asarray(teacher.predict(sample.image), dtype=np.float32)
        if sample.meta.get("shot") != shot:
            state, shot = None, sample.meta.get("shot")
        state = ema_update(state, raw, alpha)
        rows.append((resize_rgb(sample.image, input_hw), fixation_counts(sample.fixations, sample.size, input_hw),
                     -1 if shot is None else int(shot), _minmax(resize_map(raw, input_hw)),
                     resize_map(state, input_hw)))
    return rows


def _source_arrays(source: str, input_hw: tuple[int, int], teacher, alpha: float, limit: int | None,
                   progress: bool) -> ClipArrays:
    name, _, split = source.partition(":")
    dataset = open_video_dataset(name, split or None)
    clips = []
    for video in tqdm(dataset.videos()[:limit], desc=f"prepare {source}", unit="clip", disable=not progress):
        clips.append(_clip_frames(dataset.frames(video), teacher, input_hw, alpha))
    t = min(len(c) for c in clips)
    columns = list(zip(*[row for clip in clips for row in clip[:t]]))
    shapes = [(len(clips), t, *np.asarray(col[0]).shape) for col in columns]
    dtypes = (np.uint8, np.float16, np.int32, np.float16, np.float16)
    return ClipArrays(*(np.asarray(col, dtype=d).reshape(s) for col, d, s in zip(columns, dtypes, shapes)))


def load_clip_arrays(sources: list[str], input_hw: tuple[int, int], teacher: str, alpha: float,
                     cache_dir: str | Path = "runs/cache", limit: int | None = None,
                     progress: bool = True) -> ClipArrays:
    """Clip arrays of every source (the first ``limit`` clips of each; each source cached as npz)."""
    parts, model = [], None
    for source in sources:
        digest = hashlib.sha1(f"{source}|{input_hw}|{teacher}|{alpha}|{limit}".encode()).hexdigest()[:10]
        path = Path(cache_dir) / f"clips_{Path(source.partition(':')[0]).name}_{input_hw[0]}x{input_hw[1]}_{digest}.npz"
        if path.exists():
            z = np.load(path, allow_pickle=False)
            parts.append(ClipArrays(*(z[f] for f in FIELDS)))
            continue
        model = model or load_teacher(teacher)
        arrays = _source_arrays(source, input_hw, model, alpha, limit, progress)
        with atomic_path(path) as tmp, tmp.open("wb") as f:
            np.savez(f, **{name: getattr(arrays, name) for name in FIELDS})
        parts.append(arrays)
    return ClipArrays.concat(parts)


def clip_batch(arrays: ClipArrays, idx: np.ndarray, start: np.ndarray, length: int, spec: ModelSpec,
               flip: np.ndarray | None = None) -> dict:
    """Windows ``start[i] … start[i]+length-1`` of clips ``idx`` as a batch (see the module docstring)."""
    frames = start[:, None] + np.arange(length)[None]
    pick = (idx[:, None], frames)
    images = arrays.images[pick].astype(np.float32) / 255.0
    maps = {k: getattr(arrays, k)[pick].astype(np.float32) for k in ("fixations", "teacher", "temporal")}
    if flip is not None and flip.any():
        images[flip] = images[flip][..., ::-1, :]
        for value in maps.values():
            value[flip] = value[flip][..., ::-1]
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 1, 4, 2, 3)
    x = (x - torch.tensor(spec.mean).view(1, 1, 3, 1, 1)) / torch.tensor(spec.std).view(1, 1, 3, 1, 1)
    flat = {k: torch.from_numpy(np.ascontiguousarray(v.reshape(-1, *v.shape[2:]))) for k, v in maps.items()}
    return {"image": x.contiguous(), "fixation_map": flat["fixations"], "density": flat["temporal"],
            "teacher": flat["teacher"], "temporal_teacher": flat["temporal"]}


class ClipStream:
    """Deterministic window batches by global step (the clip analogue of ``BatchStream``)."""

    def __init__(self, arrays: ClipArrays, spec: ModelSpec, batch: int, length: int, seed: int, hflip: bool,
                 rank: int = 0, world: int = 1):
        if arrays.images.shape[1] < length:
            raise EdgesalError(f"clip_frames {length} is longer than the clips ({arrays.images.shape[1]} frames)")
        self.arrays, self.spec, self.batch, self.length = arrays, spec, batch, length
        self.seed, self.hflip, self.rank, self.world = seed, hflip, rank, world
        self.steps_per_epoch = max(len(epoch_order(len(arrays), seed, 0, rank, world)) // batch, 1)

    def get(self, step: int) -> dict:
        """The batch of global step ``step``."""
        epoch, within = divmod(step, self.steps_per_epoch)
        order = epoch_order(len(self.arrays), self.seed, epoch, self.rank, self.world)
        idx = order[within * self.batch:(within + 1) * self.batch]
        idx = idx if len(idx) else order[: self.batch]
        rng = np.random.default_rng([self.seed, step, self.rank])
        start = rng.integers(0, self.arrays.images.shape[1] - self.length + 1, size=len(idx))
        flip = rng.random(len(idx)) < 0.5 if self.hflip else None
        return clip_batch(self.arrays, idx, start, self.length, self.spec, flip)


def clip_data(cfg: TrainConfig, spec: ModelSpec, rank: int, world: int, progress: bool) -> TrainingData:
    """``data_kind = "clips"``: video sources → :class:`TrainingData` for a temporal student."""
    if not spec.temporal:
        raise EdgesalError(f"data_kind 'clips' trains temporal students; {spec.name} has no temporal cell")
    if not cfg.teacher:
        raise EdgesalError("data_kind 'clips' needs a teacher (e.g. teacher = \"default\") for the pseudo-labels")
    prepare = {"input_hw": spec.input_hw, "teacher": cfg.teacher, "alpha": cfg.teacher_smooth,
               "cache_dir": cfg.cache_dir, "limit": cfg.clips_per_source, "progress": progress}
    train = load_clip_arrays(cfg.train, **prepare)
    val = load_clip_arrays(cfg.val, **prepare)
    stream = ClipStream(train, spec, cfg.batch, cfg.clip_frames, cfg.seed, cfg.hflip, rank, world)

    def val_batches(batch: int = 8) -> Iterator[dict]:
        t = val.images.shape[1]
        for first in range(0, len(val), batch):
            idx = np.arange(first, min(first + batch, len(val)))
            yield clip_batch(val, idx, np.zeros(len(idx), dtype=int), t, spec)

    counts = train.fixations.astype(np.float64).sum(axis=(0, 1))
    return TrainingData(stream, val_batches, len(train), counts)


def coupled_distillation(output: Tensor, batch: Mapping[str, Any]) -> Tensor:
    """Loss of a temporal student's (B·T, 2, H, W) training output (module docstring)."""
    fused, spatial = output[:, 0], output[:, 1]
    return (0.1 * fixation_nll(fused, batch["fixation_map"])
            + 0.45 * density_cross_entropy(fused, batch["temporal_teacher"])
            + 0.45 * density_cross_entropy(spatial, batch["teacher"]))


coupled_distillation.output_channels = 2  # fused + spatial maps, unlike the image losses' one channel
LOSSES.setdefault("coupled_distillation", coupled_distillation)
