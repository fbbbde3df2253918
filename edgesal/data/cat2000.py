"""CAT2000 (Borji & Itti, 2015) training set: 2000 images in 20 categories, 24 observers/image.

::

    <root>/trainSet/Stimuli/<Category>/<name>.jpg        (root may also be trainSet itself)
    <root>/trainSet/FIXATIONMAPS/<Category>/<name>.jpg    ground-truth density map
    <root>/trainSet/FIXATIONLOCS/<Category>/<name>.mat    variable fixLocs: binary fixation map

Stem = ``<Category>/<name>``. Fixations come from ``fixLocs`` (observer −1: pooled); the
density is the shipped fixation map. σ for point-built maps: 1° ≈ 38 px (approximate).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError

from .common import PerImageFixationDataset
from .fixation_points import points_from_binary_map
from .images import IMAGE_SUFFIXES, find_image
from .matfiles import load_mat
from .registry import register_dataset


def _train_dir(root: Path) -> Path | None:
    for cand in (root, root / "trainSet"):
        if (cand / "Stimuli").is_dir() and (cand / "FIXATIONMAPS").is_dir():
            return cand
    return None


@register_dataset("cat2000")
class Cat2000Dataset(PerImageFixationDataset):
    """CAT2000 training set (fixations from ``FIXATIONLOCS``, density from ``FIXATIONMAPS``)."""

    name = "cat2000"
    px_per_degree = 38.0
    fixation_file = "FIXATIONLOCS/<stem>.mat"
    fixation_kind = "fixation locations"
    layout = "cat2000: [trainSet/]Stimuli/<Category>/*.jpg + FIXATIONMAPS/ + FIXATIONLOCS/"

    def __init__(self, root: str | Path, sigma_px: float | None = None, **kwargs) -> None:
        super().__init__(root, sigma_px, **kwargs)
        train = _train_dir(self.root)
        if train is None:
            raise EdgesalError(f"CAT2000 layout not found under {self.root}: need [trainSet/]Stimuli and FIXATIONMAPS")
        self.train_dir = train

    @classmethod
    def matches(cls, root: Path) -> bool:
        return _train_dir(root) is not None

    def _data_dir(self) -> Path:
        return self.train_dir

    def _fixation_path(self, stem: str) -> Path:
        return self.train_dir / "FIXATIONLOCS" / f"{stem}.mat"

    def _find_images(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for category in sorted(p for p in (self.train_dir / "Stimuli").iterdir() if p.is_dir()):
            for img in sorted(category.iterdir()):
                if img.is_file() and img.suffix.lower() in IMAGE_SUFFIXES and not img.name.startswith("."):
                    found[f"{category.name}/{img.stem}"] = img
        return found

    def density_map_path(self, stem: str) -> Path | None:
        category, _, name = stem.partition("/")
        return find_image(self.train_dir / "FIXATIONMAPS" / category, name, (".jpg", ".jpeg", ".png"))

    def _read_points(self, stem: str, size: tuple[int, int]) -> np.ndarray:
        path = self._fixation_path(stem)
        locs = np.asarray(load_mat(path, "fixLocs"), dtype=np.float64)
        if locs.ndim != 2:
            raise EdgesalError(f"{path}: fixLocs must be a 2-D binary map, got shape {locs.shape}")
        return points_from_binary_map(locs, size)
