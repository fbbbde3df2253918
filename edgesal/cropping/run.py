"""``edgesal crop`` over files and folders: plan, decode/encode in a bounded thread pool, write crops.json.

The model runs in the calling thread (one model, its own ``--threads``); a pool of
``workers`` threads decodes the next images and encodes the finished crops, with at most
``2 × workers`` of each in flight, so memory stays bounded on folders of any size.
Outputs are planned with the same checks as ``edgesal predict`` before anything is loaded.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from edgesal.atomic import atomic_path, write_json
from edgesal.cropping.api import saliency_map
from edgesal.cropping.aspect import Aspect, parse_aspect
from edgesal.cropping.search import METHODS, Crop, best_crop, zoom_scales
from edgesal.data.images import load_rgb
from edgesal.errors import EdgesalError
from edgesal.prediction import PredictionRun, plan_files

IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG"}
#: outline colours of the aspects in a preview, in --aspect order (cycled)
PREVIEW_COLOURS = ((255, 64, 64), (64, 200, 255), (255, 220, 0), (120, 255, 120), (255, 64, 255))


@dataclass
class CropRun(PredictionRun):
    """What a crop run did: files written, inputs skipped and the crops.json records."""

    records: list[dict] = field(default_factory=list)


def output_names(rel: Path, aspects: list[Aspect], fmt: str, preview: bool) -> list[Path]:
    """``a/b.jpg`` → ``a/b_9x16.png`` per aspect (+ ``a/b_preview.png``), relative to ``--out``."""
    names = [rel.parent / f"{rel.stem}_{a.tag}.{fmt}" for a in aspects]
    return names + ([rel.parent / f"{rel.stem}_preview.{fmt}"] if preview else [])


def draw_preview(image: np.ndarray, crops: list[Crop]) -> np.ndarray:
    """The image with each crop outlined and labelled with its aspect."""
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    width = max(1, min(image.shape[:2]) // 150)
    for crop, colour in zip(crops, itertools.cycle(PREVIEW_COLOURS)):
        draw.rectangle([crop.x, crop.y, crop.x + crop.w - 1, crop.y + crop.h - 1], outline=colour, width=width)
        draw.text((crop.x + width + 2, crop.y + width + 2), crop.aspect, fill=colour)
    return np.asarray(canvas)


def _save(pixels: np.ndarray, target: Path, fmt: str) -> None:
    with atomic_path(target) as tmp:
        Image.fromarray(np.ascontiguousarray(pixels)).save(tmp, format=IMAGE_FORMATS[fmt], **(
            {"quality": 95} if fmt == "jpg" else {}))


def write_crops(image: np.ndarray, crops: list[Crop], targets: list[Path], fmt: str) -> None:
    """Write each crop (and the preview, when ``targets`` has one more path) atomically."""
    for crop, target in zip(crops, targets):
        _save(image[crop.y:crop.y + crop.h, crop.x:crop.x + crop.w], target, fmt)
    if len(targets) > len(crops):
        _save(draw_preview(image, crops), targets[-1], fmt)


def prefetch(pool: ThreadPoolExecutor, fn: Callable, items: Iterable, ahead: int) -> Iterator[Future]:
    """Futures of ``fn(item)`` in order, with at most ``ahead`` submitted before they are taken."""
    items = iter(items)
    queue = deque(pool.submit(fn, item) for item in itertools.islice(items, ahead))
    while queue:
        future = queue.popleft()
        queue.extend(pool.submit(fn, item) for item in itertools.islice(items, 1))
        yield future


def check_options(aspects: Iterable[str | Aspect], method: str, zoom: float, fmt: str) -> list[Aspect]:
    """Validate everything but the files; the aspects parsed, in order, without repeats."""
    parsed = list(dict.fromkeys(parse_aspect(a) for a in aspects))
    if not parsed:
        raise EdgesalError("give at least one --aspect (e.g. --aspect 9:16)")
    if method not in METHODS:
        raise EdgesalError(f"unknown crop method {method!r} (methods: {', '.join(METHODS)})")
    if fmt not in IMAGE_FORMATS:
        raise EdgesalError(f"unknown image format {fmt!r} (formats: {', '.join(IMAGE_FORMATS)})")
    zoom_scales(zoom)
    return parsed


def crops_of(image: np.ndarray, predictor, aspects: list[Aspect], method: str = "saliency",
             zoom: float = 1.0) -> list[Crop]:
    """One image's crop per aspect on ``predictor``'s map (EdgesalError if an aspect cannot fit)."""
    saliency = saliency_map(image, predictor)
    return [best_crop(saliency, a, method=method, zoom=zoom) for a in aspects]


def crop_paths(sources: str | Path | list[str | Path], out: str | Path, aspects: Iterable[str | Aspect],
               model: str = "default", method: str = "saliency", zoom: float = 1.0, preview: bool = False,
               fmt: str = "png", workers: int = 4, num_threads: int = 1, progress: bool = True,
               tta: str | None = None) -> CropRun:
    """Crop every image of ``sources`` to each aspect; write the crops and ``out/crops.json``.
    ``tta="hflip"``: crops on mirror-averaged maps (:mod:`edgesal.predictors.flip`).

    Unreadable images and images an aspect cannot fit are skipped and listed in the result;
    raises only before anything is written (or when a file cannot be written).
    """
    from edgesal.predictors import load_predictor

    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    parsed = check_options(aspects, method, zoom, fmt)
    plan = plan_files(sources, out, lambda rel: output_names(rel, parsed, fmt, preview), command="crop")
    predictor = load_predictor(model, tta=tta, num_threads=num_threads)
    run = CropRun()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crop-io") as pool:
        writes: deque[Future] = deque()
        loads = prefetch(pool, load_rgb, (path for path, _ in plan), 2 * workers)
        bar = tqdm(zip(plan, loads), total=len(plan), desc="crop", unit="img",
                   disable=not progress or len(plan) < 2)
        for (path, targets), loaded in bar:
            try:
                image = loaded.result()
                crops = crops_of(image, predictor, parsed, method, zoom)
            except EdgesalError as exc:
                run.skipped.append((path, str(exc)))
                continue
            writes.append(pool.submit(write_crops, image, crops, targets, fmt))
            name = targets[0].relative_to(Path(out).resolve()).parent / path.name
            run.records.extend(c.record(name.as_posix()) for c in crops)
            run.written.extend(targets)
            while len(writes) > 2 * workers:
                writes.popleft().result()
        for future in writes:
            future.result()
    if run.written:
        write_json(Path(out) / "crops.json", run.records)
    return run
