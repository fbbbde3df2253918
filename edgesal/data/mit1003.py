"""MIT1003 (Judd et al., ICCV 2009): 1003 images, 15 observers, official folder layout.

::

    <root>/ALLSTIMULI/<stem>.jpeg
    <root>/ALLFIXATIONMAPS/<stem>_fixPts.jpg   binary map: one white pixel per fixation
    <root>/ALLFIXATIONMAPS/<stem>_fixMap.jpg   ground-truth density map

Fixations come from ``_fixPts`` (pixels above half the maximum; observer −1, since the
map pools all observers and fixations landing on the same pixel merge into one). The
per-observer raw eye data in ``DATA/<user>/<stem>.mat`` is not read. The density is the
shipped ``_fixMap``. σ for point-built maps: 1° ≈ 35 px (approximate viewing geometry).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from edgesal.errors import EdgesalError

from .common import FixationDataset
from .fixation_points import clip_fixations, points_from_binary_map
from .images import find_image, list_images
from .notices import warn
from .registry import register_dataset

STIMULI = "ALLSTIMULI"
MAPS = "ALLFIXATIONMAPS"


def read_gray(path: Path) -> np.ndarray:
    """A grayscale image as float64 (H, W), with a user-facing error."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("L"), dtype=np.float64)
    except FileNotFoundError:
        raise EdgesalError(f"file not found: {path}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise EdgesalError(f"cannot read image {path}: {' '.join(str(exc).split())}") from None


@register_dataset("mit1003")
class Mit1003Dataset(FixationDataset):
    """MIT1003 in its official layout (fixations from ``_fixPts``, density from ``_fixMap``)."""

    name = "mit1003"
    px_per_degree = 35.0
    layout = "mit1003: ALLSTIMULI/<stem>.jpeg + ALLFIXATIONMAPS/<stem>_fixPts.jpg, _fixMap.jpg"

    def __init__(self, root: str | Path, sigma_px: float | None = None, **kwargs) -> None:
        super().__init__(root, sigma_px, **kwargs)
        for sub in (STIMULI, MAPS):
            if not (self.root / sub).is_dir():
                raise EdgesalError(f"MIT1003 folder not found: {self.root / sub}")
        self._paths: dict[str, Path] | None = None
        self._points: dict[str, np.ndarray] = {}

    @classmethod
    def matches(cls, root: Path) -> bool:
        return (root / STIMULI).is_dir()

    def _index(self) -> dict[str, Path]:
        if self._paths is None:
            images = list_images(self.root / STIMULI)
            kept = {s: p for s, p in images.items() if (self.root / MAPS / f"{s}_fixPts.jpg").is_file()}
            missing = sorted(set(images) - set(kept))
            if missing:
                shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
                warn(f"{self.name}: skipped {len(missing)} image(s) without {MAPS}/<stem>_fixPts.jpg ({shown})")
            if not kept:
                raise EdgesalError(f"{self.name}: no images with fixation points under {self.root}")
            self._paths = kept
        return self._paths

    def stems(self) -> list[str]:
        return sorted(self._index())

    def image_path(self, stem: str) -> Path:
        paths = self._index()
        if stem not in paths:
            raise EdgesalError(f"{self.name}: unknown image stem {stem!r}")
        return paths[stem]

    def density_map_path(self, stem: str) -> Path | None:
        return find_image(self.root / MAPS, f"{stem}_fixMap", (".jpg", ".jpeg", ".png"))

    def _stem_fixations(self, stem: str) -> np.ndarray:
        if stem not in self._points:
            size = self._size(stem)
            pts = points_from_binary_map(read_gray(self.root / MAPS / f"{stem}_fixPts.jpg"), size)
            self._points[stem], n_out = clip_fixations(pts, size)
            self.n_clipped += n_out
        return self._points[stem]
