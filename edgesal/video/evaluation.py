"""Score a frame model (or folders of predicted maps) on a video dataset.

DHF1K convention: every metric per frame at the frame's size, averaged over all scored frames
of all clips (so long clips weigh more). sAUC and IG need other-frame negatives and a centre
prior and are not reported for video yet. ``stability`` (see :mod:`.metrics`) is the ratio of
summed predicted to ground-truth change over all within-shot frame pairs of all clips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from edgesal.data.base import Sample
from edgesal.errors import EdgesalError
from edgesal.metrics import MetricInputError, compute_all

from .datasets import open_video_dataset
from .frame_models import FrameModel
from .metrics import StabilityMeter

VIDEO_METRIC_KEYS = ("auc_judd", "auc_borji", "nss", "cc", "kld", "sim", "stability")


@dataclass
class VideoEvaluationResult:
    """Means over frames (and the stability ratio), counts, and per-clip rows."""

    means: dict[str, float]
    n_frames: int
    n_videos: int
    split: str
    per_video: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        finite = {k: (float(v) if np.isfinite(v) else None) for k, v in self.means.items()}
        return {**finite, "n_frames": self.n_frames, "n_videos": self.n_videos, "split": self.split,
                "per_video": self.per_video}


def model_source(model: FrameModel) -> tuple[Callable[[Sample], np.ndarray], Callable[[], None]]:
    """(frame → map, reset at each clip) of a frame model."""
    return (lambda sample: model.predict(sample.image)), model.reset


def _score_frame(sample: Sample, saliency: np.ndarray) -> dict:
    if saliency.min() < 0:
        saliency = saliency - saliency.min()
    try:
        row = compute_all(saliency, sample.fixation_map(), sample.density)
    except MetricInputError as exc:
        raise EdgesalError(f"cannot score frame {sample.stem}: {exc}") from None
    return {k: row[k] for k in VIDEO_METRIC_KEYS if k in row}


def evaluate_video(data: str, predict: Callable[[Sample], np.ndarray], reset: Callable[[], None] = lambda: None,
                   split: str | None = None, limit: int | None = None, progress: bool = True) -> VideoEvaluationResult:
    """Per-frame metrics of ``predict`` over the clips of ``data`` (``limit``: first N clips)."""
    dataset = open_video_dataset(data, split)
    videos = dataset.videos()[:limit]
    rows, per_video = [], []
    meter = StabilityMeter()
    for video in tqdm(videos, desc="evaluate", unit="clip", disable=not progress):
        reset()
        meter.reset()
        clip_rows = []
        for sample in dataset.frames(video):
            saliency = np.asarray(predict(sample), dtype=np.float32)
            if not np.isfinite(saliency).all():
                raise EdgesalError(f"map of frame {sample.stem} has non-finite values")
            clip_rows.append(_score_frame(sample, saliency))
            meter.add(saliency - saliency.min(), sample.density, sample.meta.get("shot"))
        rows += clip_rows
        per_video.append({"video": video, "n_frames": len(clip_rows),
                          **{k: float(np.mean([r[k] for r in clip_rows])) for k in ("auc_judd", "nss", "cc")}})
    if not rows:
        raise EdgesalError(f"{data}: no frames to score")
    means = {k: float(np.nanmean([r[k] for r in rows])) for k in VIDEO_METRIC_KEYS if k != "stability"}
    means["stability"] = meter.value
    return VideoEvaluationResult(means, len(rows), len(videos), dataset.split, per_video)
