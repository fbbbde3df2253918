"""Aspect ratios ("9:16") and the largest crop of an aspect that fits an image (rounding rule)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgesal.errors import EdgesalError


@dataclass(frozen=True)
class Aspect:
    """An aspect ratio ``width:height`` as the user wrote it (``text``) and as a number."""

    text: str
    width: float
    height: float

    @property
    def ratio(self) -> float:
        """width / height."""
        return self.width / self.height

    @property
    def tag(self) -> str:
        """File-name form: ``9:16`` → ``9x16``."""
        return self.text.replace(":", "x")


def parse_aspect(text: str | Aspect) -> Aspect:
    """``"W:H"`` with finite positive numbers (``"1:1"``, ``"9:16"``, ``"1.91:1"``) → :class:`Aspect`."""
    if isinstance(text, Aspect):
        return text
    parts = str(text).strip().split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        width, height = (float(p) for p in parts)
    except ValueError:
        raise EdgesalError(f"aspect {text!r} is not W:H (e.g. 1:1, 9:16, 1.91:1)") from None
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        raise EdgesalError(f"aspect {text!r} needs two positive numbers W:H (e.g. 9:16)")
    return Aspect(str(text).strip(), width, height)


def crop_size(image_hw: tuple[int, int], aspect: Aspect, scale: float = 1.0) -> tuple[int, int]:
    """(h, w) in pixels of the largest crop of ``aspect`` inside the image, times ``scale`` ≤ 1.

    Rounding rule: the side that fills the image (times ``scale``) is exact; the other side
    is ``round(exact)`` (halves up), clamped to the image, so the crop's aspect is off by at
    most half a pixel on one side. An exact side below one pixel is an error: that aspect
    cannot fit the image.
    """
    img_h, img_w = image_hw
    if img_h < 1 or img_w < 1:
        raise EdgesalError(f"cannot crop an empty {img_w}×{img_h} image")
    if img_w / img_h >= aspect.ratio:  # image wider than the aspect: full height
        h_exact, w_exact = img_h * scale, img_h * scale * aspect.ratio
    else:
        w_exact, h_exact = img_w * scale, img_w * scale / aspect.ratio
    if min(w_exact, h_exact) < 1:
        side = "wide" if w_exact < h_exact else "tall"
        raise EdgesalError(f"a {aspect.text} crop of a {img_w}×{img_h} image would be less than 1 px {side}")
    h = min(img_h, max(1, math.floor(h_exact + 0.5)))
    w = min(img_w, max(1, math.floor(w_exact + 0.5)))
    return h, w
