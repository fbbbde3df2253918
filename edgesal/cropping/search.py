"""Crop search on a saliency map: pure numpy functions (no model, no files).

The ``saliency`` method is an exact search: a summed-area table gives the mass of every
window of the crop's size in O(H·W), and the arg-max is the crop. The map is first turned
into the *objective* map (:func:`objective_map`: sharpened and blended with a centre prior,
settings chosen on validation splits, see docs/crop.md); the reported ``score`` is always
the fraction of the plain map's mass inside the crop. These functions take any 2-D map, so
a video command can call :func:`best_crop` per frame and smooth the centres afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgesal.cropping.aspect import Aspect, crop_size, parse_aspect
from edgesal.errors import EdgesalError

METHODS = ("saliency", "center", "point")
#: exponent applied to the map before the search (>1 sharpens); chosen on osie:val + scene:val
SHARPEN = 1.0
#: weight of the centre prior blended into the objective map; chosen on osie:val + scene:val
CENTER_WEIGHT = 0.0
#: σ of the Gaussian centre prior, as a fraction of the image's width and height
CENTER_SIGMA = 0.25
#: zoom penalty λ: a crop of area ratio r (to the largest crop) must keep ≥ 1 − λ(1 − r) of its mass
ZOOM_PENALTY = 0.5
#: relative step of the crop side between zoom levels (5 %)
ZOOM_STEP = 1.05
#: window masses within this of the best count as ties (broken towards the image centre)
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Crop:
    """A crop rectangle in pixels of the original image and the saliency mass it keeps."""

    x: int
    y: int
    w: int
    h: int
    score: float
    aspect: str

    def record(self, image: str) -> dict:
        """The ``crops.json`` entry: exactly image, aspect, x, y, w, h, score."""
        return {"image": image, "aspect": self.aspect, "x": self.x, "y": self.y, "w": self.w, "h": self.h,
                "score": round(float(self.score), 6)}


def normalise(saliency: np.ndarray) -> np.ndarray:
    """A non-negative float64 map summing to 1 (negative values clipped; an all-zero map → uniform)."""
    m = np.asarray(saliency, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise EdgesalError(f"a saliency map must be a non-empty 2-D array, got shape {m.shape}")
    if not np.isfinite(m).all():
        raise EdgesalError("the saliency map has non-finite values")
    m = np.clip(m, 0.0, None)
    total = m.sum()
    return m / total if total > 0 else np.full(m.shape, 1.0 / m.size)


def center_prior(shape_hw: tuple[int, int], sigma: float = CENTER_SIGMA) -> np.ndarray:
    """Gaussian centre prior (σ = ``sigma`` × width, height), summing to 1."""
    h, w = shape_hw
    gy = np.exp(-0.5 * ((np.arange(h) - (h - 1) / 2) / (sigma * h)) ** 2)
    gx = np.exp(-0.5 * ((np.arange(w) - (w - 1) / 2) / (sigma * w)) ** 2)
    prior = np.outer(gy, gx)
    return prior / prior.sum()


def objective_map(saliency: np.ndarray, sharpen: float = SHARPEN, center_weight: float = CENTER_WEIGHT) -> np.ndarray:
    """The map the ``saliency`` search maximises: ``(1 − β)·norm(m^γ) + β·prior`` (γ = sharpen, β = center_weight)."""
    m = normalise(saliency)
    if sharpen != 1.0:
        m = normalise((m / m.max()) ** sharpen)
    if center_weight > 0:
        m = (1.0 - center_weight) * m + center_weight * center_prior(m.shape)
    return m


def summed_area_table(m: np.ndarray) -> np.ndarray:
    """(H+1, W+1) table with ``sat[y, x]`` = sum of ``m[:y, :x]`` (float64)."""
    sat = np.zeros((m.shape[0] + 1, m.shape[1] + 1), dtype=np.float64)
    np.cumsum(np.cumsum(m, axis=0, dtype=np.float64), axis=1, out=sat[1:, 1:])
    return sat


def window_sums(sat: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sum of every h×w window: entry [y, x] is the window with top-left (x, y)."""
    return sat[h:, w:] - sat[:-h, w:] - sat[h:, :-w] + sat[:-h, :-w]


def _nearest_centre(candidates: np.ndarray, centre: tuple[float, float]) -> tuple[int, int]:
    """The (y, x) row of ``candidates`` closest to ``centre`` (first one on equal distance)."""
    d = (candidates[:, 0] - centre[0]) ** 2 + (candidates[:, 1] - centre[1]) ** 2
    y, x = candidates[int(np.argmin(d))]
    return int(y), int(x)


def best_window(sat: np.ndarray, h: int, w: int) -> tuple[int, int, float]:
    """(y, x, mass) of the h×w window with the most mass; ties go to the most central one."""
    sums = window_sums(sat, h, w)
    best = sums.max()
    ties = np.argwhere(sums >= best - TIE_TOLERANCE)
    y, x = _nearest_centre(ties, ((sums.shape[0] - 1) / 2, (sums.shape[1] - 1) / 2))
    return y, x, float(sums[y, x])


def center_window(image_hw: tuple[int, int], h: int, w: int) -> tuple[int, int]:
    """(y, x) of the centred h×w window (offsets rounded down)."""
    return (image_hw[0] - h) // 2, (image_hw[1] - w) // 2


def point_window(saliency: np.ndarray, h: int, w: int) -> tuple[int, int]:
    """(y, x) of the h×w window centred on the map's arg-max, clamped inside the image."""
    m = np.asarray(saliency, dtype=np.float64)
    py, px = _nearest_centre(np.argwhere(m >= m.max()), ((m.shape[0] - 1) / 2, (m.shape[1] - 1) / 2))
    y = min(max(py - h // 2, 0), m.shape[0] - h)
    x = min(max(px - w // 2, 0), m.shape[1] - w)
    return y, x


def zoom_scales(zoom: float) -> list[float]:
    """Crop side scales 1, 1/1.05, … down to 1/zoom (inclusive)."""
    if not zoom >= 1.0:
        raise EdgesalError(f"zoom must be ≥ 1, got {zoom}")
    n = int(np.ceil(np.log(zoom) / np.log(ZOOM_STEP))) if zoom > 1 else 0
    return [1.0] + [max(ZOOM_STEP ** -k, 1.0 / zoom) for k in range(1, n + 1)]


def _saliency_window(objective: np.ndarray, aspect: Aspect, zoom: float) -> tuple[int, int, int, int]:
    """(y, x, h, w) maximising the objective mass, zoomed only where the zoom penalty allows."""
    sat = summed_area_table(objective)
    h0, w0 = crop_size(objective.shape, aspect)
    y0, x0, full_mass = best_window(sat, h0, w0)
    best, best_gain = (y0, x0, h0, w0), 1.0 - ZOOM_PENALTY
    for scale in zoom_scales(zoom)[1:]:
        h, w = crop_size(objective.shape, aspect, scale)
        y, x, mass = best_window(sat, h, w)
        gain = mass / full_mass - ZOOM_PENALTY * (h * w) / (h0 * w0) if full_mass > 0 else 0.0
        if gain > best_gain + TIE_TOLERANCE:
            best, best_gain = (y, x, h, w), gain
    return best


def best_crop(saliency: np.ndarray, aspect: str | Aspect, method: str = "saliency", zoom: float = 1.0,
              sharpen: float = SHARPEN, center_weight: float = CENTER_WEIGHT) -> Crop:
    """The crop of ``aspect`` chosen by ``method`` on a 2-D saliency map at image size.

    ``saliency``: exact max-mass search on :func:`objective_map` (``zoom`` > 1 also tries
    smaller crops, see :data:`ZOOM_PENALTY`); ``center``: the centred crop; ``point``: the crop
    centred on the map's arg-max (Twitter-style). ``score`` is the fraction of the map's mass inside.
    """
    if method not in METHODS:
        raise EdgesalError(f"unknown crop method {method!r} (methods: {', '.join(METHODS)})")
    aspect = parse_aspect(aspect)
    plain = normalise(saliency)
    if method == "saliency":
        y, x, h, w = _saliency_window(objective_map(plain, sharpen, center_weight), aspect, zoom)
    else:
        h, w = crop_size(plain.shape, aspect)
        y, x = center_window(plain.shape, h, w) if method == "center" else point_window(plain, h, w)
    score = float(plain[y:y + h, x:x + w].sum())
    return Crop(x=x, y=y, w=w, h=h, score=min(score, 1.0), aspect=aspect.text)
