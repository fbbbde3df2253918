"""Encode RGB frames into an H.264 .mp4, atomically: a temporary file renamed into place at the end.

An interrupted or failed run leaves no half-written video (``edgesal.atomic.atomic_path``).
H.264 4:2:0 needs even sides: odd-sized frames are padded by one replicated row / column.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from edgesal.atomic import atomic_path
from edgesal.errors import EdgesalError

#: encoders tried in order (libx264 ships in the PyAV wheels; mpeg4 is a fallback)
ENCODERS = ("libx264", "mpeg4")


def even_padded(image: np.ndarray) -> np.ndarray:
    """Pad an (H, W, 3) image to even H and W by replicating its last row / column."""
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


class VideoEncoder:
    """Feeds frames to an open PyAV output container (the stream is made at the first frame)."""

    def __init__(self, container, fps: float, crf: int) -> None:
        self._container = container
        self._rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
        self._crf = crf
        self._stream = None
        self.n_frames = 0

    def _open_stream(self, height: int, width: int) -> None:
        import av

        for codec in ENCODERS:
            if codec in av.codecs_available:
                break
        options = {"crf": str(self._crf), "preset": "veryfast"} if codec == "libx264" else {}
        self._stream = self._container.add_stream(codec, rate=self._rate, options=options)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"

    def write(self, image: np.ndarray) -> None:
        import av

        image = even_padded(np.ascontiguousarray(image, dtype=np.uint8))
        if self._stream is None:
            self._open_stream(*image.shape[:2])
        if image.shape[:2] != (self._stream.height, self._stream.width):
            raise EdgesalError(f"frame size {image.shape[1]}×{image.shape[0]} changed mid-video "
                               f"(was {self._stream.width}×{self._stream.height})")
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        self._container.mux(self._stream.encode(frame))
        self.n_frames += 1

    def finish(self) -> None:
        if self._stream is None:
            raise EdgesalError("no frames to write")
        self._container.mux(self._stream.encode(None))


@contextlib.contextmanager
def open_video_writer(path: str | Path, fps: float, crf: int = 20) -> Iterator[VideoEncoder]:
    """Yield an encoder writing ``path`` (.mp4); the file appears only when the block succeeds."""
    import av

    path = Path(path)
    with atomic_path(path) as tmp:
        container = av.open(str(tmp), "w", format="mp4")
        try:
            encoder = VideoEncoder(container, fps, crf)
            yield encoder
            encoder.finish()
        finally:
            container.close()
