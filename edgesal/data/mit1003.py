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

from .common import PerImageFixationDataset
from .fixation_points import points_from_binary_map
from .images import find_image, list_images
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
class Mit1003Dataset(PerImageFixationDataset):
    """MIT1003 in its official layout (fixations from ``_fixPts``, density from ``_fixMap``)."""

    name = "mit1003"
    px_per_degree = 35.0
    fixation_file = f"{MAPS}/<stem>_fixPts.jpg"
    layout = "mit1003: ALLSTIMULI/<stem>.jpeg + ALLFIXATIONMAPS/<stem>_fixPts.jpg, _fixMap.jpg"

    def __init__(self, root: str | Path, sigma_px: float | None = None, **kwargs) -> None:
        super().__init__(root, sigma_px, **kwargs)
        for sub in (STIMULI, MAPS):
            if not (self.root / sub).is_dir():
                raise EdgesalError(f"MIT1003 folder not found: {self.root / sub}")

    @classmethod
    def matches(cls, root: Path) -> bool:
        return (root / STIMULI).is_dir()

    def _fixation_path(self, stem: str) -> Path:
        return self.root / MAPS / f"{stem}_fixPts.jpg"

    def _find_images(self) -> dict[str, Path]:
        return list_images(self.root / STIMULI)

    def density_map_path(self, stem: str) -> Path | None:
        return find_image(self.root / MAPS, f"{stem}_fixMap", (".jpg", ".jpeg", ".png"))

    def _read_points(self, stem: str, size: tuple[int, int]) -> np.ndarray:
        return points_from_binary_map(read_gray(self._fixation_path(stem)), size)
