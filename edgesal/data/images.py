"""Reading stimulus images (pixels or just their size) with user-facing errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from edgesal.errors import EdgesalError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")  # stimuli of the dataset formats
#: what folders of arbitrary images (predict, unlabeled training images, calibration) may hold
ANY_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


#: Pillow modes with more than 8 bits per pixel → the value that maps to 255. They are scaled,
#: not clipped: ``convert("RGB")`` would saturate every 16-bit value above 255 to white.
HIGH_DEPTH_FULL_SCALE = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0,
                         "I": 65535.0, "F": 1.0}


def _scaled_gray_to_rgb(im: Image.Image, path: Path) -> np.ndarray:
    """A high-bit-depth single-channel image as RGB ``uint8``, scaled by its mode's full scale.

    16-bit modes (and ``I``, what older Pillow gives for 16-bit PNGs) span 0…65535; float
    (``F``) images 0…1. Values outside that range are an error, not a guess.
    """
    full_scale = HIGH_DEPTH_FULL_SCALE[im.mode]
    values = np.asarray(im, dtype=np.float64)
    if values.size and not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= full_scale):
        raise EdgesalError(
            f"cannot read image {path}: {im.mode} pixel values must lie in 0…{full_scale:g}, "
            f"got {np.nanmin(values):g}…{np.nanmax(values):g}"
        )
    gray = np.rint(values * (255.0 / full_scale)).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


def load_rgb(path: str | Path) -> np.ndarray:
    """Load an image as an RGB ``uint8`` array of shape (H, W, 3).

    Grayscale, palette and RGBA images are converted to RGB (alpha dropped). 16-bit and
    float images are scaled to 0…255 (see :data:`HIGH_DEPTH_FULL_SCALE`), so a 16-bit PNG
    loads like its 8-bit version (48-bit RGB PNGs are reduced to 8 bits by Pillow itself).
    EXIF orientation is *not* applied: fixations refer to the stored pixel grid.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in HIGH_DEPTH_FULL_SCALE:
                return _scaled_gray_to_rgb(im, path)
            rgb = im.convert("RGB")
    except FileNotFoundError:
        raise EdgesalError(f"image not found: {path}") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise EdgesalError(f"cannot read image {path}: {_one_line(exc)}") from None
    return np.array(rgb, dtype=np.uint8)


def read_image_size(path: str | Path) -> tuple[int, int]:
    """(height, width) of an image, read from its header without decoding the pixels."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            w, h = im.size
    except FileNotFoundError:
        raise EdgesalError(f"image not found: {path}") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise EdgesalError(f"cannot read image {path}: {_one_line(exc)}") from None
    return int(h), int(w)


def find_image(folder: Path, stem: str, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> Path | None:
    """The file ``folder/<stem><suffix>`` for the first suffix that exists (any case), or None."""
    for suffix in suffixes:
        for candidate in (suffix, suffix.upper()):
            path = folder / f"{stem}{candidate}"
            if path.is_file():
                return path
    return None


def list_images(folder: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> dict[str, Path]:
    """Map stem → path for the image files directly in ``folder`` (suffix match ignores case).

    Two files with the same stem (``a.jpg`` and ``a.png``) are an error: the stem would be
    ambiguous.
    """
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in suffixes or path.name.startswith("."):
            continue
        if path.stem in found:
            raise EdgesalError(
                f"two images share the stem {path.stem!r}: {found[path.stem].name} and {path.name} in {folder}"
            )
        found[path.stem] = path
    return found


def find_images(folder: Path, suffixes: tuple[str, ...] = ANY_IMAGE_SUFFIXES) -> list[Path]:
    """Image files anywhere under ``folder`` (recursive, sorted; hidden files skipped)."""
    return sorted(p for p in Path(folder).rglob("*")
                  if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith("."))
