"""Video files with raw fixation records: LEDOV and DIEM (frames decoded from each clip's video).

Assumed layouts (documented in docs/video.md):

- **LEDOV** (Jiang et al., ECCV 2018): ``<video>/<video>.mp4`` + ``<video>/Data.mat`` holding
  ``Data.fixdata`` rows ``[subject, start ms, duration ms, x, y]`` (pixels, origin at the upper-left
  corner, taken as 0-based) and ``Data.VideoFrameRate``. A fixation covers frames
  ``ceil(start / T) … ceil((start + duration) / T)`` (1-based, T = 1000 / fps), as the release's
  ``demo.m`` does.
- **DIEM** (Mital et al. 2011): ``<clip>/video/<clip>.mp4`` + ``<clip>/event_data/*.txt``, one file
  per participant, rows ``frame lx ly ldil levent rx ry rdil revent`` (frame 1-based, pixels of the
  video frame); a sample counts where an eye's event code is 1 (fixation); with both eyes fixating,
  their mean.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np

from edgesal.data.base import Sample
from edgesal.data.matfiles import load_mat
from edgesal.data.registry import register_dataset
from edgesal.errors import EdgesalError

from ..reader import VIDEO_SUFFIXES, VideoReader
from .base import VideoDataset, frame_sample


class GazeFileVideos(VideoDataset):
    """A video file per clip and per-frame fixation points parsed from the clip's gaze records."""

    #: what marks a clip folder (a file or folder inside it)
    marker: ClassVar[str] = ""

    @classmethod
    def matches(cls, root: Path) -> bool:
        return any((d / cls.marker).exists() for d in root.iterdir() if d.is_dir())

    def all_videos(self) -> list[str]:
        return [d.name for d in sorted(self.root.iterdir()) if (d / self.marker).exists()]

    def video_path(self, video: str) -> Path:
        raise NotImplementedError

    def frame_points(self, video: str) -> dict[int, np.ndarray]:
        """0-based frame index → (N, 3) x, y, observer."""
        raise NotImplementedError

    def frames(self, video: str) -> Iterator[Sample]:
        points = self.frame_points(video)
        path = self.video_path(video)
        with VideoReader(path) as reader:
            for frame in reader.frames():
                sigma = self.default_sigma(frame.image.shape[1])
                yield frame_sample(video, frame.index, frame.image, points.get(frame.index, np.zeros((0, 3))),
                                   sigma, time=frame.time, source=path)


def _video_in(folder: Path, stem: str | None = None) -> Path | None:
    if not folder.is_dir():
        return None
    return next((p for p in sorted(folder.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES
                 and (stem is None or p.stem == stem)), None)


@register_dataset("ledov", kind="video")
class LEDOV(GazeFileVideos):
    name = "ledov"
    layout = "<video>/<video>.mp4 + <video>/Data.mat (LEDOV)"
    marker = "Data.mat"

    def video_path(self, video: str) -> Path:
        path = _video_in(self.root / video, video)
        if path is None:
            raise EdgesalError(f"LEDOV clip {video}: no {video}.mp4 in {self.root / video}")
        return path

    def frame_points(self, video: str) -> dict[int, np.ndarray]:
        mat_path = self.root / video / "Data.mat"
        data = load_mat(mat_path, "Data")
        try:
            fps = float(data.VideoFrameRate)
            rows = np.atleast_2d(np.asarray(data.fixdata, dtype=np.float64))
        except (AttributeError, TypeError, ValueError) as exc:
            raise EdgesalError(f"{mat_path}: Data.fixdata / VideoFrameRate unreadable ({exc})") from None
        period = 1000.0 / fps
        by_frame: dict[int, list] = {}
        for subject, start, duration, x, y in rows[:, :5]:
            first = max(1, math.ceil(start / period))
            last = math.ceil((start + duration) / period)
            for k in range(first, last + 1):
                by_frame.setdefault(k - 1, []).append((x, y, subject))
        return {k: np.array(v) for k, v in by_frame.items()}


@register_dataset("diem", kind="video")
class DIEM(GazeFileVideos):
    name = "diem"
    layout = "<clip>/video/<clip>.mp4 + <clip>/event_data/*.txt (DIEM)"
    marker = "event_data"

    def video_path(self, video: str) -> Path:
        path = _video_in(self.root / video / "video")
        if path is None:
            raise EdgesalError(f"DIEM clip {video}: no video file in {self.root / video / 'video'}")
        return path

    def frame_points(self, video: str) -> dict[int, np.ndarray]:
        by_frame: dict[int, list] = {}
        for observer, path in enumerate(sorted((self.root / video / "event_data").glob("*.txt"))):
            try:
                rows = np.atleast_2d(np.loadtxt(path, ndmin=2))
            except ValueError as exc:
                raise EdgesalError(f"cannot read DIEM gaze file {path}: {exc}") from None
            for frame, lx, ly, _, lev, rx, ry, _, rev in rows[:, :9]:
                eyes = [(x, y) for x, y, ev in ((lx, ly, lev), (rx, ry, rev)) if ev == 1]
                if eyes:
                    x, y = np.mean(eyes, axis=0)
                    by_frame.setdefault(int(frame) - 1, []).append((x, y, observer))
        return {k: np.array(v) for k, v in by_frame.items()}
