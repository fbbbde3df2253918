"""Teacher pseudo-labels: run a teacher once over images and cache its maps (resumable).

Cache layout: ``CACHE/manifest.json`` (teacher, map size) and ``CACHE/<key>.npy``: float16
maps min-max normalised to [0, 1] at ``size_hw``. Existing maps are skipped, so an
interrupted run resumes where it stopped; each map is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgesal.atomic import atomic_path, write_json
from edgesal.errors import EdgesalError
from edgesal.imaging import resize_map
from edgesal.predictors import load_predictor
from edgesal.predictors.base import Predictor
from edgesal.predictors.ensemble import EnsemblePredictor
from edgesal.training.sources import ImageSource

DEFAULT_CACHE_HW = (192, 256)


def load_teacher(spec: str, num_threads: int = 2) -> Predictor:
    """A teacher: any predictor name/path; ``a+b+c`` makes an averaging ensemble."""
    parts = [p for p in spec.split("+") if p]
    members = [load_predictor(p, num_threads=num_threads) for p in parts]
    return members[0] if len(members) == 1 else EnsemblePredictor(members)


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def teacher_map_path(cache: Path, key: str) -> Path:
    return cache / f"{key}.npy"


def pseudolabel(sources: list[str], teacher: str, cache: str | Path,
                size_hw: tuple[int, int] = DEFAULT_CACHE_HW, num_threads: int = 2,
                progress: bool = True) -> dict:
    """Fill ``cache`` with teacher maps for every image of ``sources``; returns counts."""
    cache = Path(cache)
    manifest_path = cache / "manifest.json"
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("teacher") != teacher or tuple(manifest.get("size_hw", ())) != tuple(size_hw):
            raise EdgesalError(f"cache {cache} holds maps of teacher {manifest.get('teacher')!r} at "
                               f"{manifest.get('size_hw')}; use another --out folder")
    items = [item for spec in sources for item in ImageSource(spec).items()]
    todo = [it for it in items if not teacher_map_path(cache, it.key).exists()]
    write_json(manifest_path, {"teacher": teacher, "size_hw": list(size_hw), "format": "float16 min-max [0,1]"})
    if todo:
        model = load_teacher(teacher, num_threads=num_threads)
        for item in tqdm(todo, desc=f"pseudolabel ({teacher})", unit="img", disable=not progress):
            image = item.source.image(item.stem)
            teacher_map = _minmax(resize_map(model.predict(image), size_hw)).astype(np.float16)
            path = teacher_map_path(cache, item.key)
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                with tmp.open("wb") as f:
                    np.save(f, teacher_map)
    return {"images": len(items), "computed": len(todo), "cached": len(items) - len(todo)}


def read_teacher_map(cache: Path, key: str) -> np.ndarray:
    path = teacher_map_path(cache, key)
    if not path.exists():
        raise EdgesalError(f"no teacher map for {key} in {cache}: run edgesal pseudolabel first")
    return np.load(path, allow_pickle=False)
