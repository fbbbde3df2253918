"""Predict saliency maps for image files and write them as npy, png or heat-map overlays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from edgesal.atomic import atomic_path
from edgesal.data.images import find_images, load_rgb
from edgesal.errors import EdgesalError
from edgesal.predictors import load_predictor


def list_images(source: str | Path) -> list[Path]:
    """An image file, or every image in a folder (recursively, sorted)."""
    source = Path(source)
    if source.is_file():
        return [source]
    if source.is_dir():
        images = find_images(source)
        if not images:
            raise EdgesalError(f"no images (jpg, png, …) in {source}")
        return images
    raise EdgesalError(f"image or folder not found: {source}")


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


def predict_paths(source: str | Path, out: str | Path, model: str, fmt: str = "png",
                  num_threads: int = 1, progress: bool = True) -> list[Path]:
    """Run ``model`` over ``source`` and write one file per image into ``out``."""
    images = list_images(source)
    predictor = load_predictor(model, num_threads=num_threads)
    root = Path(source) if Path(source).is_dir() else Path(source).parent
    out = Path(out)
    written = []
    for path in tqdm(images, desc="predict", unit="img", disable=not progress or len(images) < 2):
        image = load_rgb(path)
        saliency = predictor.predict(image)
        stem = path.relative_to(root).with_suffix("")
        target = out / (f"{stem}.npy" if fmt == "npy" else f"{stem}.png")
        with atomic_path(target) as tmp:
            if fmt == "npy":
                with tmp.open("wb") as f:
                    np.save(f, saliency.astype(np.float32))
            else:
                pixels = to_uint8(saliency) if fmt == "png" else overlay(image, saliency)
                Image.fromarray(pixels).save(tmp, format="PNG")
        written.append(target)
    return written
