"""Per-frame image folders: DHF1K, Hollywood-2 and UCF-Sports as their authors release them.

Assumed layouts (from the releases of Wang et al., DHF1K / ACLNet; documented in docs/video.md):

- **Hollywood-2, UCF-Sports**: ``{training,testing}/<video>/images/<name>.png|jpg`` with the same
  names under ``maps/`` (ground-truth density, grey levels) and ``fixation/`` (binary fixation map).
- **DHF1K**: ``annotation/<0001>/maps/<0001>.png`` and ``annotation/<0001>/fixation/<0001>.png``
  (frames 1-based), with the frames either in ``annotation/<0001>/images/`` or decoded from
  ``video/<001>.AVI`` (the n-th decoded frame ↔ the n-th annotation file). Official split by
  number: 1–600 train, 601–700 val (701–1000: test, no annotation released).

Fixation maps give one point per nonzero pixel (observer −1, pooled); density = the maps/ image.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from edgesal.data.base import Sample
from edgesal.data.density import load_density_map
from edgesal.data.images import IMAGE_SUFFIXES, load_rgb
from edgesal.data.registry import register_dataset
from edgesal.errors import EdgesalError

from ..reader import VIDEO_SUFFIXES, VideoReader
from .base import VideoDataset, frame_sample, points_of_fixation_map


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []


def _fixation_points(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return points_of_fixation_map(np.asarray(im.convert("L")) > 127)
    except OSError as exc:
        raise EdgesalError(f"cannot read fixation map {path}: {' '.join(str(exc).split())}") from None


class FrameFolderVideos(VideoDataset):
    """Clips whose annotation is ``<video>/{maps,fixation}/`` per-frame images."""

    #: split name → sub-folder holding the clips
    split_folders: ClassVar[dict[str, str]] = {}

    def _clip_dirs(self) -> dict[str, Path]:
        return {d.name: d for sub in self.split_folders.values() if (self.root / sub).is_dir()
                for d in sorted((self.root / sub).iterdir()) if (d / "maps").is_dir()}

    def all_videos(self) -> list[str]:
        return list(self._clip_dirs())

    def split_of(self, video: str) -> str:
        parent = self._clip_dirs()[video].parent.name
        return next(s for s, folder in self.split_folders.items() if folder == parent)

    def _images(self, video: str, n: int) -> Iterator[np.ndarray]:
        for path in _files(self._clip_dirs()[video] / "images")[:n]:
            yield load_rgb(path)

    def frames(self, video: str) -> Iterator[Sample]:
        clip = self._clip_dirs()[video]
        maps = _files(clip / "maps")
        for index, (image, map_path) in enumerate(zip(self._images(video, len(maps)), maps)):
            size = image.shape[:2]
            fix_path = clip / "fixation" / map_path.name
            points = _fixation_points(fix_path) if fix_path.is_file() else np.zeros((0, 3))
            yield frame_sample(video, index, image, points, self.default_sigma(size[1]),
                               density=load_density_map(map_path, size), source=map_path)

    @classmethod
    def matches(cls, root: Path) -> bool:
        return any((root / sub).is_dir() and any((d / "maps").is_dir() for d in (root / sub).iterdir())
                   for sub in cls.split_folders.values())


@register_dataset("hollywood2", kind="video")
class Hollywood2(FrameFolderVideos):
    name = "hollywood2"
    layout = "{training,testing}/<video>/{images,maps,fixation}/ (Hollywood-2, UCF-Sports)"
    split_folders: ClassVar[dict[str, str]] = {"train": "training", "test": "testing"}
    default_split = "test"


@register_dataset("ucf-sports", autodetect=False, kind="video")
class UCFSports(Hollywood2):
    name = "ucf-sports"


@register_dataset("dhf1k", kind="video")
class DHF1K(FrameFolderVideos):
    name = "dhf1k"
    layout = "annotation/<0001>/{maps,fixation}/ + video/<001>.AVI or annotation/<0001>/images/ (DHF1K)"
    split_folders: ClassVar[dict[str, str]] = {"all": "annotation"}
    default_split = "val"

    def split_of(self, video: str) -> str:
        number = int(video) if video.isdigit() else 0
        return "train" if number <= 600 else "val" if number <= 700 else "test"

    def _video_file(self, video: str) -> Path | None:
        folder = self.root / "video"
        if not folder.is_dir():
            return None
        return next((p for p in sorted(folder.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES
                     and p.stem.isdigit() and int(p.stem) == int(video)), None)

    def _images(self, video: str, n: int) -> Iterator[np.ndarray]:
        if _files(self._clip_dirs()[video] / "images"):
            yield from super()._images(video, n)
            return
        path = self._video_file(video)
        if path is None:
            raise EdgesalError(f"DHF1K clip {video}: neither annotation/{video}/images/ nor video/{int(video):03d}.AVI")
        with VideoReader(path) as reader:
            for frame in reader.frames():
                yield frame.image
