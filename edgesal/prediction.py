"""Predict saliency maps for image files and write them as npy, png or heat-map overlays.

Outputs are planned and checked before the model is loaded or anything is written: an
output may never land on an input, two inputs may never share an output name, and maps
already inside the input tree are not read back as images. Unreadable images (and images
the model turns into a non-finite map) are skipped and reported; the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from edgesal.atomic import atomic_path
from edgesal.data.images import find_images, load_rgb
from edgesal.errors import EdgesalError
from edgesal.errors import raise_for_skipped as report_skipped
from edgesal.predictors import load_predictor

FORMATS = ("npy", "png", "overlay")


@dataclass
class PredictionRun:
    """What a folder run did: the maps written and the inputs skipped (with the reason)."""

    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _inputs_of(source: Path, out: Path) -> tuple[Path, list[Path]]:
    """(folder the output names are relative to, input images) of one source."""
    root = source.parent if source.is_file() else source
    if root.is_dir() and root.resolve() == out:
        raise EdgesalError(f"output folder {out} is the input folder {root}: choose another --out "
                           "(maps would overwrite or mix with the images)")
    if source.is_file():
        return root, [source]
    if not source.is_dir():
        raise EdgesalError(f"image or folder not found: {source}")
    images = [p for p in find_images(source) if not _is_within(p.resolve(), out)]  # never our own maps
    if not images:
        raise EdgesalError(f"no images (jpg, png, …) in {source}")
    return source, images


def plan_files(sources: list[str | Path], out: str | Path, outputs_of: Callable[[Path], list[Path]],
               command: str = "predict") -> list[tuple[Path, list[Path]]]:
    """(input image, output files) pairs; ``outputs_of`` maps an image's path relative to its
    source folder to output paths relative to ``out``. One-line error if an output would hit
    an input or two inputs would write the same file."""
    out = Path(out).resolve()
    owners: dict[Path, Path] = {}  # output → input
    plan: dict[Path, list[Path]] = {}
    for source in map(Path, sources):
        root, images = _inputs_of(source, out)
        for image in images:
            targets = [out / rel for rel in outputs_of(image.relative_to(root))]
            for target in targets:
                if target in owners and owners[target] != image:
                    raise EdgesalError(f"{owners[target]} and {image} would both write {target}: "
                                       f"rename one or {command} them into different --out folders")
                owners[target] = image
            plan[image] = targets
    inputs = {p.resolve() for p in plan}
    hit = next((t for t in owners if t in inputs), None)
    if hit is not None:
        raise EdgesalError(f"output {hit} would overwrite an input image: choose another --out")
    return list(plan.items())


def plan_outputs(sources: list[str | Path], out: str | Path, fmt: str) -> list[tuple[Path, Path]]:
    """(input image, output file) pairs; one-line error if an output would hit an input or clash."""
    if fmt not in FORMATS:
        raise EdgesalError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    suffix = ".npy" if fmt == "npy" else ".png"
    return [(image, targets[0]) for image, targets in
            plan_files(sources, out, lambda rel: [rel.with_suffix(suffix)])]


def _jet(values: np.ndarray) -> np.ndarray:
    """Map [0, 1] values to a jet-like RGB colour map (uint8)."""
    v = np.clip(values, 0, 1)[..., None]
    rgb = np.clip(1.5 - np.abs(4 * v - np.array([3, 2, 1])), 0, 1)
    return (rgb * 255).astype(np.uint8)


def overlay(image: np.ndarray, saliency: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Blend a heat map of the min-max normalised saliency onto the image."""
    s = saliency - saliency.min()
    s = s / s.max() if s.max() > 0 else s
    heat = _jet(s).astype(np.float32)
    weight = alpha * s[..., None] ** 0.5
    return (image * (1 - weight) + heat * weight).astype(np.uint8)


def to_uint8(saliency: np.ndarray) -> np.ndarray:
    s = saliency - saliency.min()
    return (255 * s / s.max()).astype(np.uint8) if s.max() > 0 else s.astype(np.uint8)


def write_map(target: Path, image: np.ndarray, saliency: np.ndarray, fmt: str) -> None:
    """Atomically write one map (npy: float32 map; png: 8-bit map; overlay: heat map on the image)."""
    with atomic_path(target) as tmp:
        if fmt == "npy":
            with tmp.open("wb") as f:
                np.save(f, saliency.astype(np.float32))
        else:
            pixels = to_uint8(saliency) if fmt == "png" else overlay(image, saliency)
            Image.fromarray(pixels).save(tmp, format="PNG")


def predict_paths(sources: str | Path | list[str | Path], out: str | Path, model: str, fmt: str = "png",
                  num_threads: int = 1, progress: bool = True, tta: str | None = None) -> PredictionRun:
    """Run ``model`` over image files / folders and write one map per image into ``out``.

    Bad images are skipped and listed in the result; raises only before anything is written.
    ``tta="hflip"``: average with the mirror image's map (:mod:`edgesal.predictors.flip`).
    """
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    plan = plan_outputs(sources, out, fmt)
    predictor = load_predictor(model, tta=tta, num_threads=num_threads)
    run = PredictionRun()
    for image_path, target in tqdm(plan, desc="predict", unit="img", disable=not progress or len(plan) < 2):
        try:
            image = load_rgb(image_path)
            saliency = predictor.predict(image)
            if not np.isfinite(saliency).all():
                raise EdgesalError(f"the model gave non-finite values for {image_path}")
        except EdgesalError as exc:
            run.skipped.append((image_path, str(exc)))
            continue
        write_map(target, image, saliency, fmt)
        run.written.append(target)
    return run


def raise_for_skipped(run: PredictionRun, total: int, what: str = "image") -> None:
    """Nothing skipped: return. Some skipped: PartialRunError (exit 3). All: EdgesalError (exit 2)."""
    report_skipped([p.name for p, _ in run.skipped], len(run.written), total, what)
