"""SALICON (Jiang et al., CVPR 2015): mouse-contingent "fixations" on MS-COCO images.

::

    <root>/images/train/COCO_train2014_*.jpg, images/val/COCO_val2014_*.jpg
    <root>/fixations_train2014.json, fixations_val2014.json   (or in <root>/fixations/)

The JSON files are COCO-style: ``images`` [{id, file_name, width, height}] and
``annotations`` [{image_id, worker_id, fixations: [[row, col], …]}] with 1-based pixel
coordinates. Observer id = ``worker_id``. The official train / val partition is used for
``split="train"`` / ``"val"`` (the test set has no public fixations). Image sizes come from
the JSON. σ = 0.03 × image width (19.2 px at 640×480).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError

from .common import ParsedFixationDataset
from .fixation_points import empty_fixations
from .registry import register_dataset

SPLITS = ("train", "val")


def _json_path(root: Path, split: str) -> Path | None:
    for folder in (root, root / "fixations"):
        path = folder / f"fixations_{split}2014.json"
        if path.is_file():
            return path
    return None


@register_dataset("salicon")
class SaliconDataset(ParsedFixationDataset):
    """SALICON train + val with their official partition."""

    name = "salicon"
    layout = "salicon: images/{train,val}/COCO_*.jpg + fixations_{train,val}2014.json"

    def __init__(self, root: str | Path, sigma_px: float | None = None, **kwargs) -> None:
        super().__init__(root, sigma_px, **kwargs)
        self._jsons = {s: p for s in SPLITS if (p := _json_path(self.root, s)) is not None}
        if not self._jsons:
            raise EdgesalError(f"SALICON fixations not found: {self.root}/fixations_{{train,val}}2014.json")
        self._split_of: dict[str, str] = {}

    @classmethod
    def matches(cls, root: Path) -> bool:
        return any(_json_path(root, s) is not None for s in SPLITS)

    def _read_json(self, split: str, path: Path, raw: dict[str, np.ndarray]) -> None:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            raise EdgesalError(f"cannot read {path}: {' '.join(str(exc).split())}") from None
        try:
            by_id: dict[int, str] = {}
            for img in data["images"]:
                file_name = str(img["file_name"])
                stem = Path(file_name).stem
                by_id[int(img["id"])] = stem
                self._sizes[stem] = (int(img["height"]), int(img["width"]))
                image_dir = self.root / "images" / split
                self._paths[stem] = image_dir / file_name if image_dir.is_dir() else self.root / "images" / file_name
                self._split_of[stem] = split
            parts: dict[str, list[np.ndarray]] = {stem: [] for stem in by_id.values()}
            for ann in data["annotations"]:
                image_id = int(ann["image_id"])
                if image_id not in by_id:
                    raise EdgesalError(f"{path}: annotation for unknown image_id {image_id}")
                pts = np.asarray(ann["fixations"], dtype=np.float64).reshape(-1, 2)
                obs = np.full(len(pts), float(ann.get("worker_id", -1)))
                parts[by_id[image_id]].append(np.column_stack([pts[:, 1] - 1.0, pts[:, 0] - 1.0, obs]))
        except (KeyError, TypeError, ValueError) as exc:
            raise EdgesalError(f"{path}: not a SALICON fixations file ({type(exc).__name__}: {exc})") from None
        for stem, arrs in parts.items():
            raw[stem] = np.concatenate(arrs) if arrs else empty_fixations()

    def _read_points(self) -> dict[str, np.ndarray]:
        raw: dict[str, np.ndarray] = {}
        for split, path in self._jsons.items():
            self._read_json(split, path, raw)
        return dict(sorted(raw.items()))

    def official_splits(self) -> dict[str, list[str]]:
        """The dataset's own partition: {"train": [...], "val": [...]} (splits present on disk)."""
        points = self._parse()
        return {s: [stem for stem in points if self._split_of[stem] == s] for s in self._jsons}
