"""The video dataset interface: clips of frames, each frame a :class:`~edgesal.data.base.Sample`.

A frame sample follows the image conventions (RGB uint8, fixations (N, 3) x, y, observer in
0-based pixels of the frame, density summing to 1) with ``stem = "<video>/<index:06d>"`` (the
layout ``edgesal predict VIDEO`` writes, so ``evaluate --maps`` reads predicted maps back) and
``meta = {"video", "index", "time", "shot", ...}``. ``shot`` changes at a known cut (None: unknown).
Video datasets register in :mod:`edgesal.data.registry` with ``kind="video"``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edgesal.data.base import Sample
from edgesal.data.density import density_from_fixations
from edgesal.errors import EdgesalError

SPLITS = ("train", "val", "test", "all")


def frame_sample(video: str, index: int, image: np.ndarray, fixations: np.ndarray, sigma_px: float,
                 density: np.ndarray | None = None, time: float | None = None, shot: object = None,
                 source: Path | None = None) -> Sample:
    """A frame as a Sample; the density is blurred from the fixations when none is given."""
    h, w = image.shape[:2]
    fixations = np.asarray(fixations, dtype=np.float64).reshape(-1, 3)
    if density is None:
        density = density_from_fixations(fixations, (h, w), sigma_px)
    return Sample(f"{video}/{index:06d}", source or Path(video), image, fixations, density,
                  meta={"video": video, "index": index, "time": time, "shot": shot, "sigma_px": sigma_px})


def points_of_fixation_map(fixation_map: np.ndarray) -> np.ndarray:
    """(N, 3) x, y, observer −1 of the nonzero pixels of a binary fixation map."""
    rows, cols = np.nonzero(fixation_map)
    return np.column_stack([cols, rows, np.full(len(rows), -1)]).astype(np.float64)


class VideoDataset(ABC):
    """Clips with per-frame fixations; ``split`` restricts :meth:`videos`."""

    name: str = "video"
    layout: str = ""
    #: split scored by default (``edgesal evaluate`` without ``--split``)
    default_split: str = "all"

    def __init__(self, root: str | Path, sigma_px: float | None = None) -> None:
        self.root = Path(root)
        self.sigma_px = sigma_px
        self.split = "all"

    @classmethod
    def matches(cls, root: Path) -> bool:
        """Whether ``root`` is in this loader's layout."""
        return False

    @abstractmethod
    def all_videos(self) -> list[str]:
        """Every clip name, in a stable order."""

    @abstractmethod
    def frames(self, video: str) -> Iterator[Sample]:
        """The frames of ``video`` in order, as samples."""

    def split_of(self, video: str) -> str:
        """The official split ``video`` belongs to (``"all"`` when the dataset has none)."""
        return "all"

    def videos(self) -> list[str]:
        """The clips of the selected split."""
        return [v for v in self.all_videos() if self.split == "all" or self.split_of(v) == self.split]

    def select(self, split: str | None) -> VideoDataset:
        """Restrict to ``split`` (None: :attr:`default_split`); an error if it holds no clip."""
        split = self.default_split if split is None else split.lower()
        if split not in SPLITS:
            raise EdgesalError(f"unknown split {split!r} (splits: {', '.join(SPLITS)})")
        self.split = split
        if not self.videos():
            raise EdgesalError(f"{self.name} at {self.root}: no clips in split {split!r}")
        return self

    def default_sigma(self, width: int) -> float:
        """σ of point-built densities: the override, else 0.03 × frame width."""
        return self.sigma_px or 0.03 * width
