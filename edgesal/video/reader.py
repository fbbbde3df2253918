"""Decode video files (and live cameras) into a stream of RGB frames with their timestamps.

PyAV (FFmpeg) decodes: it streams frame by frame, gives each frame's presentation timestamp
(exact for variable frame rate), the display rotation and a corrupt flag, and reads every
container FFmpeg reads. Frames are yielded one at a time, so memory stays flat for any length.

Conventions: ``Frame.index`` counts every *decoded* frame from the start of the file
(0-based; a corrupt frame that could not be decoded gets no index), ``Frame.time`` is seconds
since the stream's start time. The rotation metadata is applied, so frames are upright as a
player shows them (``VideoInfo.width``/``height`` are the upright size).
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
CAMERA_PREFIX = "camera:"
#: largest accepted frame side (the image limit of edgesal/cli/params.py: 8K video fits)
MAX_FRAME_SIDE = 8192
#: leading bytes of the containers above: (offset, magic)
_MAGIC = ((4, b"ftyp"), (0, b"\x1a\x45\xdf\xa3"), (8, b"AVI "), (4, b"moov"), (4, b"mdat"), (4, b"wide"))


def is_camera(source: str | Path) -> bool:
    return str(source).lower().startswith(CAMERA_PREFIX)


def is_video_source(source: str | Path) -> bool:
    """A camera (``camera:N``), a video suffix, or a file whose first bytes are a video container."""
    if is_camera(source):
        return True
    path = Path(source)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return True
    if not path.is_file():
        return False
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError:
        return False
    return any(head[offset:offset + len(magic)] == magic for offset, magic in _MAGIC)


@dataclass(frozen=True)
class VideoInfo:
    """What the header says: upright size, average fps (None if unknown), rotation, frame-count estimate."""

    source: str
    width: int
    height: int
    fps: float | None
    rotation: int
    n_frames: int | None
    duration: float | None
    codec: str


@dataclass
class Frame:
    """One decoded frame: 0-based decode index, seconds since stream start, upright RGB uint8 (H, W, 3)."""

    index: int
    time: float
    image: np.ndarray


@dataclass(frozen=True)
class FrameRange:
    """Which decoded frames to use: times in [start, end) seconds, every ``stride``-th, at most ``max_frames``."""

    stride: int = 1
    max_frames: int | None = None
    start: float = 0.0
    end: float | None = None

    def check(self) -> None:
        if self.stride < 1 or (self.max_frames is not None and self.max_frames < 1):
            raise EdgesalError("--stride and --max-frames must be at least 1")
        if not (math.isfinite(self.start) and self.start >= 0):
            raise EdgesalError(f"--start must be a time ≥ 0 seconds, got {self.start}")
        if self.end is not None and not (math.isfinite(self.end) and self.end > self.start):
            raise EdgesalError(f"--end ({self.end}) must be after --start ({self.start})")

    def to_json(self) -> dict:
        return {"stride": self.stride, "max_frames": self.max_frames, "start": self.start, "end": self.end}


#: every decoded frame
ALL_FRAMES = FrameRange()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _camera_input(source: str) -> tuple[str, str]:
    """(device, FFmpeg input format) of ``camera:N``; an error where this build cannot read cameras."""
    import av

    text = source[len(CAMERA_PREFIX):]
    if not text.isdigit():
        raise EdgesalError(f"camera source {source!r}: expected camera:INDEX, e.g. camera:0")
    if sys.platform.startswith("linux"):
        device, fmt = f"/dev/video{text}", "v4l2"
        if not Path(device).exists():
            raise EdgesalError(f"camera {text} not found: {device} does not exist")
    elif sys.platform == "darwin":
        device, fmt = text, "avfoundation"
    else:
        raise EdgesalError("live camera input needs Linux (v4l2) or macOS (avfoundation); "
                           "record a file and predict that instead")
    if not any(fmt in name.split(",") for name in av.formats_available):
        raise EdgesalError(f"this FFmpeg build (PyAV {av.__version__}) has no {fmt} camera input")
    return device, fmt


class VideoReader:
    """An opened video (file or ``camera:N``); use as a context manager and iterate :meth:`frames`."""

    def __init__(self, source: str | Path) -> None:
        import av

        self.source = str(source)
        self.corrupt = 0  # packets / frames that could not be decoded
        try:
            if is_camera(source):
                device, fmt = _camera_input(self.source)
                self._container = av.open(device, format=fmt)
            else:
                path = Path(source)
                if not path.is_file():
                    raise EdgesalError(f"video not found: {path}")
                if path.stat().st_size == 0:
                    raise EdgesalError(f"cannot read video {path}: the file is empty")
                self._container = av.open(str(path))
        except av.error.FFmpegError as exc:
            raise EdgesalError(f"cannot read video {source}: {_one_line(exc)}") from None
        if not self._container.streams.video:
            kinds = sorted({s.type for s in self._container.streams}) or ["no"]
            self.close()
            raise EdgesalError(f"{source} has no video stream (it has {', '.join(kinds)} streams)")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._check_size()
        self._decoder = self._decoded()
        self._first = self._peek_first()
        self.info = self._read_info()

    def _check_size(self) -> None:
        """Refuse a stream without a frame size or with sides above MAX_FRAME_SIDE (before decoding)."""
        ctx = self._stream.codec_context
        width, height = int(ctx.width or 0), int(ctx.height or 0)
        if width <= 0 or height <= 0:
            self.close()
            raise EdgesalError(f"cannot read video {self.source}: the video stream has no frame size")
        if max(width, height) > MAX_FRAME_SIDE:
            self.close()
            raise EdgesalError(f"{self.source}: frames of {width}×{height} exceed the largest accepted side "
                               f"{MAX_FRAME_SIDE} (downscale the video first)")

    def _peek_first(self):
        """The first decodable frame (its side data holds the rotation); an error if there is none."""
        import av

        try:
            first = next(self._decoder, None)
        except av.error.FFmpegError as exc:
            self.close()
            raise EdgesalError(f"cannot read video {self.source}: {_one_line(exc)}") from None
        if first is None:
            self.close()
            raise EdgesalError(f"cannot read video {self.source}: no decodable video frame")
        return first

    def _read_info(self) -> VideoInfo:
        stream = self._stream
        ctx = stream.codec_context
        width, height = int(ctx.width), int(ctx.height)
        rotation = round((self._first.rotation or 0) / 90.0) * 90 % 360
        if rotation in (90, 270):
            width, height = height, width
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else None
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
        if duration is None and self._container.duration:
            duration = self._container.duration / 1_000_000
        n_frames = int(stream.frames) or (round(duration * fps) if duration and fps else None)
        return VideoInfo(self.source, width, height, fps, rotation, n_frames, duration, ctx.name)

    def _decoded(self) -> Iterator:
        """Every decodable frame in order; corrupt packets / frames are counted in ``self.corrupt``."""
        import av

        for packet in self._container.demux(self._stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                self.corrupt += 1
                continue
            for frame in frames:
                if frame.is_corrupt:
                    self.corrupt += 1
                    continue
                yield frame

    def frames(self, frame_range: FrameRange = ALL_FRAMES) -> Iterator[Frame]:
        """Yield the frames of ``frame_range`` (decoding from the start so indices are exact)."""
        origin = self._stream.start_time
        base = self._stream.time_base
        fps = self.info.fps or 25.0
        taken = 0
        first_in_range: int | None = None
        first, self._first = self._first, None
        if first is None:
            raise EdgesalError(f"{self.source}: frames() can be read only once per VideoReader")
        for index, frame in enumerate(itertools.chain([first], self._decoder)):
            if frame.pts is not None and base is not None:
                time = float((frame.pts - (origin or 0)) * base)
            else:
                time = index / fps
            if time < frame_range.start - 1e-9:
                continue
            if frame_range.end is not None and time >= frame_range.end - 1e-9:
                return
            first_in_range = index if first_in_range is None else first_in_range
            if (index - first_in_range) % frame_range.stride:
                continue
            yield Frame(index, round(time, 6), self._upright(frame))
            taken += 1
            if frame_range.max_frames is not None and taken >= frame_range.max_frames:
                return

    def _upright(self, frame) -> np.ndarray:
        image = frame.to_ndarray(format="rgb24")
        turns = self.info.rotation // 90
        return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image

    def close(self) -> None:
        container = getattr(self, "_container", None)
        if container is not None:
            container.close()
            self._container = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_frames(source: str | Path, frame_range: FrameRange = ALL_FRAMES) -> Iterator[Frame]:
    """Convenience generator: open ``source``, yield its frames, close it."""
    with VideoReader(source) as reader:
        yield from reader.frames(frame_range)
