"""Teacher pseudo-labels: run a teacher once over images and cache its maps (resumable).

Cache layout: ``CACHE/manifest.json`` (teacher, map size) and ``CACHE/<key>.npy``: float16
maps min-max normalised to [0, 1] at ``size_hw``. Existing maps are skipped, so an
interrupted run resumes where it stopped; each map is written atomically.

Training reads a cache, or several joined by ``+`` (``runs/teacher_ac+runs/teacher_glimpse``):
a multi-teacher ensemble from caches already computed (the mean of the members' sum-normalised
maps, as ``--teacher a+b`` would give, without running any teacher again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgesal.atomic import atomic_path, write_json
from edgesal.errors import EdgesalError, raise_for_skipped
from edgesal.imaging import resize_map
from edgesal.predictors import load_predictor
from edgesal.predictors.base import Predictor, sum_normalised
from edgesal.predictors.ensemble import EnsemblePredictor
from edgesal.training.sources import ImageSource

DEFAULT_CACHE_HW = (192, 256)
MANIFEST = "manifest.json"


def ensemble_members(spec: str | Path) -> list[str]:
    """The members of an ``a+b+c`` ensemble value (one member without ``+``; blanks dropped)."""
    return [part.strip() for part in str(spec).split("+") if part.strip()]


def load_teacher(spec: str, num_threads: int = 2) -> Predictor:
    """A teacher: any predictor name/path; ``a+b+c`` makes an averaging ensemble."""
    parts = ensemble_members(spec)
    if not parts:
        raise EdgesalError(f"--teacher {spec!r} names no model (e.g. attention-center, default, a.pt+b.pt)")
    members = [load_predictor(p, num_threads=num_threads) for p in parts]
    return members[0] if len(members) == 1 else EnsemblePredictor(members)


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def teacher_map_path(cache: Path, key: str) -> Path:
    return cache / f"{key}.npy"


@dataclass
class PseudolabelRun:
    """Counts of a pseudolabel run and the images it skipped (path or key, reason)."""

    images: int
    computed: int
    cached: int
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def counts(self) -> dict:
        return {"images": self.images, "computed": self.computed, "cached": self.cached}

    def raise_for_skipped(self) -> None:
        """PartialRunError (exit 3) when some images were skipped, EdgesalError when all were."""
        raise_for_skipped([k for k, _ in self.skipped], self.computed + self.cached, self.images, verb="read")


def read_manifest(cache: Path) -> dict | None:
    """The cache's manifest ({teacher, size_hw, format}), None if there is none; error if corrupt."""
    path = cache / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "teacher" not in manifest or "size_hw" not in manifest:
            raise ValueError("teacher or size_hw missing")
        return manifest
    except (OSError, ValueError) as exc:
        raise EdgesalError(f"corrupt teacher cache manifest {path} ({_first_line(exc)}): "
                           "delete it or use another --out folder") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _check_cache(cache: Path, teacher: str, size_hw: tuple[int, int]) -> None:
    """The cache is new, or holds maps of the same teacher at the same size."""
    if any(not (isinstance(v, int) and v > 0) for v in size_hw) or len(size_hw) != 2:
        raise EdgesalError(f"map size must be two positive integers (height width), got {list(size_hw)}")
    if cache.exists() and not cache.is_dir():
        raise EdgesalError(f"teacher cache {cache} is a file, not a folder")
    manifest = read_manifest(cache)
    if manifest is not None and (manifest.get("teacher") != teacher
                                 or tuple(manifest.get("size_hw") or ()) != tuple(size_hw)):
        raise EdgesalError(f"cache {cache} holds maps of teacher {manifest.get('teacher')!r} at "
                           f"{manifest.get('size_hw')}; use another --out folder")


def pseudolabel(sources: list[str], teacher: str, cache: str | Path,
                size_hw: tuple[int, int] = DEFAULT_CACHE_HW, num_threads: int = 2,
                progress: bool = True) -> PseudolabelRun:
    """Fill ``cache`` with teacher maps for every image of ``sources``.

    Everything (map size, cache, sources, teacher) is checked before the first write;
    unreadable images are skipped and listed in the result.
    """
    cache = Path(cache)
    _check_cache(cache, teacher, size_hw)
    items = [item for spec in sources for item in ImageSource(spec).items()]
    todo = [it for it in items if not teacher_map_path(cache, it.key).exists()]
    model = load_teacher(teacher, num_threads=num_threads) if todo else None
    write_json(cache / MANIFEST, {"teacher": teacher, "size_hw": list(size_hw), "format": "float16 min-max [0,1]"})
    run = PseudolabelRun(images=len(items), computed=len(todo), cached=len(items) - len(todo))
    for item in tqdm(todo, desc=f"pseudolabel ({teacher})", unit="img", disable=not progress):
        try:
            image = item.source.image(item.stem)
        except EdgesalError as exc:
            run.skipped.append((item.key, str(exc)))
            continue
        teacher_map = _minmax(resize_map(model.predict(image), size_hw)).astype(np.float16)
        path = teacher_map_path(cache, item.key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, tmp.open("wb") as f:
            np.save(f, teacher_map)
    run.computed -= len(run.skipped)
    return run


def read_teacher_map(cache: Path, key: str) -> np.ndarray:
    path = teacher_map_path(cache, key)
    if not path.exists():
        raise EdgesalError(f"no teacher map for {key} in {cache}: run edgesal pseudolabel first")
    return np.load(path, allow_pickle=False)


def teacher_caches(spec: str | Path) -> list[Path]:
    """The folders of a training ``teacher_cache`` value (``A+B``: an ensemble of caches)."""
    folders = [Path(member) for member in ensemble_members(spec)]
    if not folders:
        raise EdgesalError(f"teacher cache {str(spec)!r} names no folder")
    return folders


def read_teacher_target(spec: str | Path, key: str, size_hw: tuple[int, int]) -> np.ndarray:
    """The teacher map of ``key`` at ``size_hw``, in [0, 1]; for several caches the min-max of the
    mean of their sum-normalised maps (the ensemble teacher)."""
    maps = [resize_map(read_teacher_map(cache, key).astype(np.float32), size_hw) for cache in teacher_caches(spec)]
    if len(maps) == 1:
        return maps[0]
    return _minmax(np.mean([sum_normalised(m) for m in maps], axis=0)).astype(np.float32)

