"""Reads what ``edgesal simulate-video`` writes (layout in :mod:`edgesal.video.simulate`)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edgesal.data.base import Sample
from edgesal.data.registry import register_dataset
from edgesal.errors import EdgesalError

from ..reader import VideoReader
from ..simulate import FORMAT, MANIFEST
from .base import VideoDataset, frame_sample


@register_dataset("simulated-video", autodetect=True, kind="video")
class SimulatedVideos(VideoDataset):
    """Simulated clips: ``simulated.json`` + ``videos/*.mp4`` + ``fixations/*.csv``; shots are known."""

    name = "simulated-video"
    layout = f"{MANIFEST} + videos/<clip>.mp4 + fixations/<clip>.csv (edgesal simulate-video)"

    def __init__(self, root: str | Path, sigma_px: float | None = None) -> None:
        super().__init__(root, sigma_px)
        path = self.root / MANIFEST
        try:
            self.manifest = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise EdgesalError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise EdgesalError(f"{path} is not an edgesal simulated-video manifest ({FORMAT})")
        self._clips = {c["name"]: c for c in self.manifest["clips"]}

    @classmethod
    def matches(cls, root: Path) -> bool:
        return (root / MANIFEST).is_file()

    def all_videos(self) -> list[str]:
        return list(self._clips)

    def _fixations(self, clip: dict) -> dict[int, np.ndarray]:
        path = self.root / clip["fixations"]
        by_frame: dict[int, list] = {}
        try:
            with path.open(newline="") as f:
                for row in csv.DictReader(f):
                    by_frame.setdefault(int(row["frame"]), []).append(
                        (float(row["x"]), float(row["y"]), float(row["observer"])))
        except (OSError, KeyError, ValueError) as exc:
            raise EdgesalError(f"cannot read fixations {path}: {' '.join(str(exc).split())}") from None
        return {k: np.array(v) for k, v in by_frame.items()}

    def frames(self, video: str) -> Iterator[Sample]:
        clip = self._clips[video]
        points = self._fixations(clip)
        meta = clip["frames"]
        with VideoReader(self.root / clip["video"]) as reader:
            for frame in reader.frames():
                if frame.index >= len(meta):
                    break
                info = meta[frame.index]
                yield frame_sample(video, frame.index, frame.image, points.get(frame.index, np.zeros((0, 3))),
                                   self.sigma_px or info["sigma_px"], time=frame.time, shot=info["shot"],
                                   source=self.root / clip["video"])
            if reader.corrupt:
                raise EdgesalError(f"{self.root / clip['video']}: {reader.corrupt} corrupt frame(s)")
