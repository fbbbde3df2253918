"""The generic folder format: images, one CSV of fixations, optional ground-truth maps.

::

    <root>/stimuli/<stem>.jpg|jpeg|png
    <root>/fixations.csv        header with at least stem,observer,x,y (extra columns ignored)
    <root>/maps/<stem>.png|jpg|npy   optional ground-truth density maps

x, y are 0-based pixel coordinates of the stimulus (x = column). ``observer`` is any label;
integer labels are used as ids as they are, other labels get ids 0… in sorted order.
Images without any fixation are skipped with one warning. σ = 0.03 × image width.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError

from .common import ParsedFixationDataset
from .images import IMAGE_SUFFIXES, find_image, list_images
from .notices import warn
from .registry import register_dataset

REQUIRED_COLUMNS = ("stem", "observer", "x", "y")
MAP_SUFFIXES = (".png", ".jpg", ".jpeg", ".npy")


def assign_observer_ids(labels: list[str]) -> dict[str, int]:
    try:
        return {label: int(label) for label in labels}
    except ValueError:
        return {label: i for i, label in enumerate(sorted(labels))}


@register_dataset("generic")
class GenericFolderDataset(ParsedFixationDataset):
    """A folder with ``stimuli/``, ``fixations.csv`` and optionally ``maps/``."""

    name = "generic"
    layout = "generic: stimuli/<stem>.jpg|png + fixations.csv (stem,observer,x,y) [+ maps/<stem>.png|npy]"
    _name_from_folder = True

    def __init__(self, root: str | Path, sigma_px: float | None = None, *, name: str | None = None,
                 use_maps: bool = True) -> None:
        super().__init__(root, sigma_px, name=name, use_maps=use_maps)
        if name is None and self._name_from_folder:
            self.name = self.root.resolve().name
        self.csv_path = self.root / "fixations.csv"
        self.stimuli_dir = self.root / "stimuli"
        self.maps_dir = self.root / "maps"
        if not self.csv_path.is_file():
            raise EdgesalError(f"fixations file not found: {self.csv_path}")
        if not self.stimuli_dir.is_dir():
            raise EdgesalError(f"stimuli folder not found: {self.stimuli_dir}")
        self._observer_ids: dict[str, int] = {}

    @classmethod
    def matches(cls, root: Path) -> bool:
        return (root / "fixations.csv").is_file()

    @property
    def observer_ids(self) -> dict[str, int]:
        """Observer label in fixations.csv → the id stored in the fixations' third column."""
        self._parse()
        return dict(self._observer_ids)

    def _read_csv(self, images: dict[str, Path]) -> tuple[dict[str, tuple[list, list, list]], list[str], int]:
        """Rows per stem as (x, y, observer label); also the observer labels and dropped count."""
        rows: dict[str, tuple[list, list, list]] = {stem: ([], [], []) for stem in images}
        labels: dict[str, None] = {}
        n_nonfinite = 0
        path = self.csv_path
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise EdgesalError(f"{path} is empty; expected a header with {','.join(REQUIRED_COLUMNS)}")
            cols = [c.strip().lower() for c in header]
            missing = [c for c in REQUIRED_COLUMNS if c not in cols]
            if missing:
                raise EdgesalError(
                    f"{path}: missing column(s) {', '.join(missing)}; header is {','.join(header)}, "
                    f"need {','.join(REQUIRED_COLUMNS)}"
                )
            i_stem, i_obs, i_x, i_y = (cols.index(c) for c in REQUIRED_COLUMNS)
            width = max(i_stem, i_obs, i_x, i_y) + 1
            for lineno, row in enumerate(reader, start=2):
                if not row or not "".join(row).strip():
                    continue
                if len(row) < width:
                    raise EdgesalError(f"{path} line {lineno}: {len(row)} field(s), expected at least {width}")
                stem = row[i_stem].strip()
                if stem not in rows:
                    base = Path(stem)
                    if base.suffix.lower() in IMAGE_SUFFIXES and base.stem in rows:
                        stem = base.stem
                    else:
                        raise EdgesalError(f"{path} line {lineno}: stem {stem!r} has no image in {self.stimuli_dir}")
                try:
                    x, y = float(row[i_x]), float(row[i_y])
                except ValueError:
                    raise EdgesalError(f"{path} line {lineno}: x, y must be numbers, "
                                       f"got {row[i_x]!r}, {row[i_y]!r}") from None
                if not (math.isfinite(x) and math.isfinite(y)):
                    n_nonfinite += 1
                    continue
                label = row[i_obs].strip()
                labels[label] = None
                xs, ys, obs = rows[stem]
                xs.append(x)
                ys.append(y)
                obs.append(label)
        return rows, list(labels), n_nonfinite

    def _read_points(self) -> dict[str, np.ndarray]:
        images = list_images(self.stimuli_dir)
        if not images:
            raise EdgesalError(f"no images (*.jpg, *.jpeg, *.png) in {self.stimuli_dir}")
        self._paths = images
        rows, labels, n_nonfinite = self._read_csv(images)
        if n_nonfinite:
            warn(f"{self.name}: dropped {n_nonfinite} fixation(s) with NaN/inf coordinates in {self.csv_path}")
        self._observer_ids = assign_observer_ids(labels)
        raw: dict[str, np.ndarray] = {}
        for stem in sorted(rows):
            xs, ys, obs = rows[stem]
            ids = [self._observer_ids[label] for label in obs]
            raw[stem] = np.column_stack([np.array(xs, dtype=np.float64), np.array(ys, dtype=np.float64),
                                         np.array(ids, dtype=np.float64)]).reshape(-1, 3)
        return raw

    def density_map_path(self, stem: str) -> Path | None:
        if not self.maps_dir.is_dir():
            return None
        return find_image(self.maps_dir, stem, MAP_SUFFIXES)


@register_dataset("eyecrowd", folder="eyecrowd_512", autodetect=False)
class EyeCrowdDataset(GenericFolderDataset):
    """EyeCrowd (Jiang et al., ECCV 2014) resized to 512×384, shipped in the generic format."""

    name = "eyecrowd"
    _name_from_folder = False
