"""Training sources: ``NAME[:SPLIT]`` for datasets, ``images:DIR`` for unlabeled folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesal.data import open_dataset
from edgesal.data.images import find_images, load_rgb
from edgesal.errors import EdgesalError


@dataclass
class SourceItem:
    """One training image: a cache key, loaders for the image and (optional) fixations."""

    key: str
    source: ImageSource
    stem: str


class ImageSource:
    """A dataset split (with fixations) or a folder of unlabeled images."""

    def __init__(self, spec: str):
        self.spec = spec
        if spec.startswith("images:"):
            self.folder = Path(spec[len("images:"):])
            if not self.folder.is_dir():
                raise EdgesalError(f"image folder not found: {self.folder}")
            self.dataset = None
            self._paths = {p.relative_to(self.folder).with_suffix("").as_posix(): p
                           for p in find_images(self.folder)}
            self._stems = sorted(self._paths)
            self.label = f"images_{self.folder.name}"
            self.prefix = self.label
        else:
            name, _, split = spec.partition(":")
            self.dataset = open_dataset(name, split=split or "all")
            self._stems = self.dataset.stems()
            self.prefix = Path(name).name if ("/" in name or Path(name).is_dir()) else name
            self.label = f"{self.prefix}_{split or 'all'}"
        if not self._stems:
            raise EdgesalError(f"training source {spec!r} has no images")

    @property
    def labelled(self) -> bool:
        return self.dataset is not None

    def items(self) -> list[SourceItem]:
        return [SourceItem(f"{self.prefix}/{stem}", self, stem) for stem in self._stems]

    def image(self, stem: str) -> np.ndarray:
        if self.dataset is not None:
            return self.dataset.load(stem).image
        return load_rgb(self._paths[stem])
