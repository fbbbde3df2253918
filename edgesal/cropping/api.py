"""``edgesal.crop(image, aspect, model=...)``: one image in, one crop rectangle and score out."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgesal.cropping.aspect import Aspect
from edgesal.cropping.search import Crop, best_crop
from edgesal.errors import EdgesalError

if TYPE_CHECKING:
    from edgesal.predictors import Predictor


@functools.lru_cache(maxsize=4)
def _cached_predictor(model: str, num_threads: int) -> Predictor:
    from edgesal.predictors import load_predictor

    return load_predictor(model, num_threads=num_threads)


def as_rgb(image: Any) -> np.ndarray:
    """A path, PIL image or array (H, W, 3) / (H, W) → (H, W, 3) uint8 RGB."""
    if isinstance(image, (str, Path)):
        from edgesal.data.images import load_rgb

        return load_rgb(image)
    if hasattr(image, "convert") and hasattr(image, "size"):  # PIL image
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise EdgesalError(f"image must be RGB uint8 (H, W, 3), a path or a PIL image; got {array.dtype} "
                           f"{array.shape}")
    return array


def saliency_map(image: np.ndarray, model: str | Predictor, num_threads: int = 1) -> np.ndarray:
    """The model's saliency map at the image's size (finite values checked)."""
    predictor = _cached_predictor(model, num_threads) if isinstance(model, str) else model
    saliency = predictor.predict(image)
    if not np.isfinite(saliency).all():
        raise EdgesalError(f"the model {getattr(predictor, 'name', model)!r} gave non-finite values")
    return saliency


def crop(image: Any, aspect: str | Aspect, model: str | Predictor = "default", method: str = "saliency",
         zoom: float = 1.0, num_threads: int = 1) -> Crop:
    """The crop of ``aspect`` (``"9:16"``) of ``image`` that keeps the most saliency of ``model``.

    ``image``: RGB uint8 array, path or PIL image. ``model``: a name or file ``load_predictor``
    accepts (loaded once and cached) or a :class:`~edgesal.predictors.Predictor`. Returns a
    :class:`~edgesal.cropping.search.Crop` (``x, y, w, h`` in pixels, ``score`` = mass fraction).
    """
    rgb = as_rgb(image)
    return best_crop(saliency_map(rgb, model, num_threads), aspect, method=method, zoom=zoom)
