"""``edgesal simulate-video``: labelled clips made from a fixation dataset by a simulated camera.

Clip ``c`` strings ``shots`` shots together, one source image per shot (the cut between shots
changes image); each shot is a pan, a zoom or a static view, all with a little hand-held shake
(:mod:`edgesal.video.camera`). Every frame carries all fixations of its source image mapped
through the frame's own view matrix (points that leave the frame are dropped), and a density
σ of the source σ divided by the view's scale. Deterministic from ``seed``: clip ``c`` draws
from ``numpy.random.default_rng([seed, c])``.

Written layout (read back by :class:`edgesal.video.datasets.simulated.SimulatedVideos`)::

    OUT/simulated.json          # format, source data / split / seed, settings, per clip: frames
                                # (shot, source stem, view matrix, σ)
    OUT/videos/<clip>.mp4       # H.264, crf 12 (near lossless)
    OUT/fixations/<clip>.csv    # frame,x,y,observer (0-based frame pixels)
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgesal.atomic import write_json, write_text
from edgesal.data import open_dataset
from edgesal.errors import EdgesalError

from .camera import SHOT_KINDS, MotionSettings, in_frame, render, shot_matrices, to_frame
from .writer import open_video_writer

FORMAT = "edgesal-simulated-video/1"
MANIFEST = "simulated.json"


@dataclass(frozen=True)
class SimulationSettings:
    """What a simulated set is made of (stored in its manifest)."""

    frames: int = 48
    shots: int = 2
    fps: float = 24.0
    width: int = 320
    height: int = 240
    seed: int = 0
    motion: MotionSettings = field(default_factory=MotionSettings)

    def check(self) -> None:
        if self.frames < self.shots or self.shots < 1:
            raise EdgesalError(f"--frames ({self.frames}) must be at least --shots ({self.shots}) ≥ 1")
        if min(self.width, self.height) < 16:
            raise EdgesalError(f"--size must be at least 16×16, got {self.width}×{self.height}")


def _fixations_csv(rows: list[tuple[int, float, float, float]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["frame", "x", "y", "observer"])
    writer.writerows((f, f"{x:.4f}", f"{y:.4f}", int(o)) for f, x, y, o in rows)
    return buffer.getvalue()


def simulate_clip(dataset, stems: list[str], name: str, out: Path, settings: SimulationSettings,
                  clip_seed: int) -> dict:
    """Write one clip (video + fixations); return its manifest entry."""
    rng = np.random.default_rng([settings.seed, clip_seed])
    out_wh = (settings.width, settings.height)
    lengths = [settings.frames // len(stems)] * len(stems)
    lengths[-1] += settings.frames - sum(lengths)
    frames, rows = [], []
    with open_video_writer(out / "videos" / f"{name}.mp4", settings.fps, crf=12) as encoder:
        for shot, (stem, length) in enumerate(zip(stems, lengths)):
            sample = dataset.load(stem)
            kind = SHOT_KINDS[int(rng.integers(len(SHOT_KINDS)))]
            sigma = float(sample.meta.get("sigma_px") or 0.03 * sample.size[1])
            for matrix in shot_matrices(rng, kind, sample.size, out_wh, length, settings.motion):
                index = len(frames)
                encoder.write(render(sample.image, matrix, out_wh))
                points = to_frame(sample.fixations, matrix)
                keep = in_frame(points, out_wh)
                rows += [(index, x, y, o) for (x, y), o in zip(points[keep], sample.fixations[keep, 2])]
                frames.append({"shot": shot, "stem": stem, "kind": kind, "matrix": np.round(matrix, 9).tolist(),
                               "sigma_px": sigma / float(matrix[0, 0])})
    write_text(out / "fixations" / f"{name}.csv", _fixations_csv(rows))
    return {"name": name, "video": f"videos/{name}.mp4", "fixations": f"fixations/{name}.csv", "frames": frames}


def simulate_videos(data: str, out: str | Path, split: str | None = "test", clips: int | None = None,
                    settings: SimulationSettings | None = None, progress: bool = True) -> Path:
    """Make simulated clips from ``data``/``split`` into ``out``; return the manifest path."""
    settings = settings or SimulationSettings()
    settings.check()
    dataset = open_dataset(data, split=split)
    stems = dataset.stems()
    available = len(stems) // settings.shots
    if available < 1:
        raise EdgesalError(f"{data} {split}: {len(stems)} image(s), fewer than --shots {settings.shots}")
    n_clips = available if clips is None else min(clips, available)
    out = Path(out)
    entries = []
    for c in tqdm(range(n_clips), desc="simulate", unit="clip", disable=not progress):
        clip_stems = stems[c * settings.shots:(c + 1) * settings.shots]
        entries.append(simulate_clip(dataset, clip_stems, f"clip{c:04d}", out, settings, c))
    manifest = {"format": FORMAT, "source": {"data": data, "split": getattr(dataset, "split", split)},
                "settings": asdict(settings), "clips": entries}
    return write_json(out / MANIFEST, manifest)
