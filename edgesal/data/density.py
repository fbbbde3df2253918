"""Fixation density maps: blurred fixation points, or ground-truth maps read from disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from edgesal.errors import EdgesalError

from .notices import warn

TRUNCATE = 4.0  # scipy.ndimage.gaussian_filter's default: kernel radius = int(4σ + 0.5)


def uniform_density(shape_hw: tuple[int, int]) -> np.ndarray:
    """A float32 (H, W) map with every pixel equal, summing to 1."""
    h, w = int(shape_hw[0]), int(shape_hw[1])
    return np.full((h, w), 1.0 / (h * w), dtype=np.float32)


def _kernel(sigma: float, radius: int) -> np.ndarray:
    """The same normalised 1-D Gaussian that ``scipy.ndimage.gaussian_filter`` uses."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 / (sigma * sigma) * x**2)
    return k / k.sum()


def _blur_points_separably(
    ys: np.ndarray, xs: np.ndarray, counts: np.ndarray, shape_hw: tuple[int, int], sigma: float
) -> np.ndarray:
    """Σ_i counts_i · k(y − y_i) · k(x − x_i) as one (H×N)·(N×W) product.

    Exactly what ``gaussian_filter(count_map, sigma, mode="constant")`` computes (same
    truncated, normalised kernel; zero padding), but it costs H·W·N instead of H·W·(4r+2):
    much faster for a few hundred points on a large image with a wide kernel.
    """
    h, w = shape_hw
    radius = int(TRUNCATE * sigma + 0.5)
    k = _kernel(sigma, radius)

    def rows(centres: np.ndarray, length: int) -> np.ndarray:
        d = np.arange(length)[None, :] - centres[:, None]
        inside = np.abs(d) <= radius
        return np.where(inside, k[np.clip(d + radius, 0, 2 * radius)], 0.0)

    gy = rows(ys, h) * counts[:, None]  # (N, H)
    gx = rows(xs, w)  # (N, W)
    return gy.T @ gx


def density_from_fixations(
    fixations: np.ndarray, shape_hw: tuple[int, int], sigma_px: float
) -> np.ndarray:
    """Blur fixation points into a float32 (H, W) density map that sums to 1.

    ``fixations``: (N, 2+) array whose first two columns are x (column) and y (row) in
    0-based pixels. Points are counted at their rounded pixel (clamped into the image),
    the count map is filtered with ``scipy.ndimage.gaussian_filter(..., sigma_px,
    mode="constant")`` (mass blurred past the border is lost), and the result is
    normalised. No fixations gives the uniform map.
    """
    h, w = int(shape_hw[0]), int(shape_hw[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"density map shape must be positive, got {shape_hw}")
    if not (np.isfinite(sigma_px) and sigma_px > 0):
        raise ValueError(f"sigma_px must be a positive number, got {sigma_px}")
    pts = np.asarray(fixations, dtype=np.float64)
    if pts.size == 0:
        return uniform_density((h, w))
    pts = pts.reshape(len(pts), -1)
    pts = pts[np.isfinite(pts[:, 0]) & np.isfinite(pts[:, 1])]
    if len(pts) == 0:
        return uniform_density((h, w))
    xs = np.clip(np.rint(pts[:, 0]).astype(np.int64), 0, w - 1)
    ys = np.clip(np.rint(pts[:, 1]).astype(np.int64), 0, h - 1)

    flat, counts = np.unique(ys * w + xs, return_counts=True)
    radius = int(TRUNCATE * sigma_px + 0.5)
    if len(flat) <= 2 * (2 * radius + 1):
        dens = _blur_points_separably(flat // w, flat % w, counts.astype(np.float64), (h, w), sigma_px)
    else:
        count_map = np.zeros(h * w, dtype=np.float64)
        count_map[flat] = counts
        dens = gaussian_filter(count_map.reshape(h, w), sigma_px, mode="constant")
    dens = np.maximum(dens, 0.0)
    total = dens.sum()
    if not total > 0:
        return uniform_density((h, w))
    return (dens / total).astype(np.float32)


def _read_map_array(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise EdgesalError(f"density map not found: {path}") from None
        except (OSError, ValueError) as exc:
            raise EdgesalError(f"cannot read density map {path}: {' '.join(str(exc).split())}") from None
        arr = np.asarray(arr, dtype=np.float64)
        arr = np.squeeze(arr)
        if arr.ndim == 3:
            arr = arr.mean(axis=-1)
        if arr.ndim != 2:
            raise EdgesalError(f"density map {path} must be a 2-D array, got shape {np.shape(arr)}")
        return arr
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I", "F") or im.mode.startswith("I;"):
                arr = np.asarray(im, dtype=np.float64)
            else:
                arr = np.asarray(im.convert("L"), dtype=np.float64)
    except FileNotFoundError:
        raise EdgesalError(f"density map not found: {path}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise EdgesalError(f"cannot read density map {path}: {' '.join(str(exc).split())}") from None
    return arr


def load_density_map(path: str | Path, shape_hw: tuple[int, int]) -> np.ndarray:
    """Read a ground-truth density map (png / jpg / npy) as float32 (H, W) summing to 1.

    A map whose size differs from ``shape_hw`` (the image's) is resized bilinearly, with a
    warning naming the file. Negative, non-finite or all-zero maps are errors.
    """
    path = Path(path)
    h, w = int(shape_hw[0]), int(shape_hw[1])
    arr = _read_map_array(path)
    if not np.all(np.isfinite(arr)):
        raise EdgesalError(f"density map {path} contains NaN or infinite values")
    if arr.min() < 0:
        raise EdgesalError(f"density map {path} has negative values (a log-density?); expected >= 0")
    if arr.shape != (h, w):
        warn(f"density map {path} is {arr.shape[1]}x{arr.shape[0]}, image is {w}x{h}: resized")
        resized = Image.fromarray(arr.astype(np.float32)).resize((w, h), Image.Resampling.BILINEAR)
        arr = np.maximum(np.asarray(resized, dtype=np.float64), 0.0)
    total = arr.sum()
    if not total > 0:
        raise EdgesalError(f"density map {path} is all zero")
    return (arr / total).astype(np.float32)
