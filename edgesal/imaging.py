"""Image and map resizing shared by predictors, evaluation and export."""

from __future__ import annotations

import numpy as np
from PIL import Image


def resize_rgb(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) uint8 RGB image with bilinear filtering."""
    h, w = size_hw
    if image.shape[:2] == (h, w):
        return image
    return np.asarray(Image.fromarray(image).resize((w, h), Image.BILINEAR))


def resize_map(saliency: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D float map with bilinear filtering (float32 out)."""
    h, w = size_hw
    saliency = np.asarray(saliency, dtype=np.float32)
    if saliency.shape == (h, w):
        return saliency
    return np.asarray(Image.fromarray(saliency, mode="F").resize((w, h), Image.BILINEAR))


def to_float01(image: np.ndarray) -> np.ndarray:
    """uint8 RGB → float32 in [0, 1]."""
    return image.astype(np.float32) / 255.0
