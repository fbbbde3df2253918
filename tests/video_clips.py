"""Tiny test clips made with PyAV (≤ 64×48, ≤ 30 frames): a moving bright square on noise."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def clip_frames(n: int = 12, size_hw: tuple[int, int] = (48, 64), seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = size_hw
    frames = []
    for i in range(n):
        img = (rng.random((h, w, 3)) * 60).astype(np.uint8)
        x = 4 + (i * 3) % max(1, w - 14)
        img[h // 3:h // 3 + 10, x:x + 10] = (250, 240, 60)
        frames.append(img)
    return frames


def make_clip(path: Path, n: int = 12, size_hw: tuple[int, int] = (48, 64), fps: int = 12, codec: str = "libx264",
              rotation: int = 0, pts: list[int] | None = None, seed: int = 0) -> Path:
    """Write a clip; ``pts`` (in 1/1000 s) makes it variable-frame-rate; ``rotation`` sets display metadata."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = size_hw
        stream.pix_fmt = "rgb24" if codec == "png" else "yuv444p" if codec == "libx264" else "yuv420p"
        if pts is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        for i, image in enumerate(clip_frames(n, size_hw, seed)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[i], Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def corrupt_packet(path: Path, packet: int = 3) -> Path:
    """Scramble the middle of one packet of ``path`` (a PNG-in-AVI clip): that frame cannot be decoded."""
    import av

    with av.open(str(path)) as container:
        spans = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    data = bytearray(path.read_bytes())
    pos, size = spans[packet]
    for j in range(pos + size // 4, pos + size // 2):
        data[j] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def make_audio_only(path: Path) -> Path:
    """A 0.2 s silent AAC-in-MP4 file with no video stream."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1600), dtype=np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def interrupt_encoder(monkeypatch, after: int) -> None:
    """Make the video encoder raise KeyboardInterrupt (Ctrl-C) on its ``after``-th frame."""
    from edgesal.video import writer

    calls = {"n": 0}
    original = writer.VideoEncoder.write

    def write(self, image):
        calls["n"] += 1
        if calls["n"] == after:
            raise KeyboardInterrupt
        return original(self, image)

    monkeypatch.setattr(writer.VideoEncoder, "write", write)
