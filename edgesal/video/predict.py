"""``edgesal predict VIDEO``: a saliency map per decoded frame, as npy / png files or an overlay video.

Outputs of ``VIDEO`` (stem ``clip``) in ``--out DIR``, exactly:

- ``--format npy|png``: ``DIR/clip/<frame index, 6 digits>.npy|png`` (index = 0-based position
  among the decoded frames of the file, so a ``--start``/``--stride`` run names frames like a
  full run does);
- ``--format overlay``: ``DIR/clip_overlay.mp4`` (heat map on the frames, fps / stride);
- always ``DIR/clip.json``: frame index → timestamp (s), fps, size, rotation, model, range,
  corrupt / skipped frame counts.

Everything is checked (sources readable, no output on an input, no two videos with one stem)
before the model is loaded. Frames stream through one at a time; maps and the overlay are
written atomically, the JSON index last.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgesal.atomic import write_json
from edgesal.errors import EdgesalError, PartialRunError
from edgesal.prediction import overlay, write_map

from .frame_models import FrameModel
from .reader import ALL_FRAMES, FrameRange, VideoReader, is_camera
from .writer import open_video_writer


@dataclass(frozen=True)
class VideoJob:
    """One video source and where its outputs go."""

    source: str
    stem: str
    maps_dir: Path
    index_json: Path
    overlay: Path | None


@dataclass
class VideoRun:
    """What a video run wrote (JSON indexes), frames mapped, and frames it had to skip per source."""

    written: list[Path] = field(default_factory=list)
    n_frames: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)


def _stem_of(source: str) -> str:
    return source.lower().replace(":", "") if is_camera(source) else Path(source).stem


def plan_videos(sources: list[str], out: str | Path, fmt: str, other_inputs: tuple[Path, ...] = ()) -> list[VideoJob]:
    """Jobs for ``sources``; a one-line error if a source is unreadable or an output would hit an input."""
    out = Path(out).resolve()
    jobs: dict[str, VideoJob] = {}
    inputs = {p.resolve() for p in other_inputs}
    for source in sources:
        if not is_camera(source):
            path = Path(source)
            with VideoReader(path):  # unreadable, empty, audio-only, too large: error now
                pass
            if path.resolve().parent == out:
                raise EdgesalError(f"output folder {out} is the input folder of {path}: choose another --out")
            inputs.add(path.resolve())
        stem = _stem_of(source)
        if stem in jobs:
            raise EdgesalError(f"{jobs[stem].source} and {source} would both write {out / stem}: "
                               "rename one or predict them into different --out folders")
        jobs[stem] = VideoJob(source, stem, out / stem, out / f"{stem}.json",
                              out / f"{stem}_overlay.mp4" if fmt == "overlay" else None)
    for job in jobs.values():
        hit = next((p for p in (job.index_json, job.overlay) if p is not None and p in inputs), None)
        if hit is not None:
            raise EdgesalError(f"output {hit} would overwrite an input: choose another --out")
    return list(jobs.values())


@contextlib.contextmanager
def _map_sink(job: VideoJob, fmt: str, fps: float) -> Iterator[Callable[[int, np.ndarray, np.ndarray], None]]:
    """A function writing one frame's map (npy / png file, or an overlay frame of the video)."""
    if fmt != "overlay":
        suffix = ".npy" if fmt == "npy" else ".png"
        yield lambda index, image, saliency: write_map(job.maps_dir / f"{index:06d}{suffix}", image, saliency, fmt)
        return
    with open_video_writer(job.overlay, fps) as encoder:
        yield lambda index, image, saliency: encoder.write(overlay(image, saliency))


def predict_video(job: VideoJob, model: FrameModel, fmt: str, frame_range: FrameRange = ALL_FRAMES,
                  progress: bool = True) -> dict:
    """Map the frames of one video; write its outputs and JSON index; return the index."""
    times: dict[str, float] = {}
    skipped = 0
    with VideoReader(job.source) as reader:
        info = reader.info
        fps = info.fps or 25.0
        total = info.n_frames // frame_range.stride if info.n_frames else None
        if frame_range.max_frames is not None:
            total = min(total or frame_range.max_frames, frame_range.max_frames)
        model.reset()
        bar = tqdm(total=total, desc=job.stem, unit="frame", disable=not progress)
        try:
            with _map_sink(job, fmt, fps / frame_range.stride) as sink:
                for frame in reader.frames(frame_range):
                    try:
                        saliency = model.predict(frame.image)
                    except EdgesalError:
                        skipped += 1
                        continue
                    sink(frame.index, frame.image, saliency)
                    times[f"{frame.index:06d}"] = frame.time
                    bar.update()
                if not times:
                    raise EdgesalError(f"{job.source}: no frame in the selected range "
                                       f"(start {frame_range.start}s, end {frame_range.end}s)")
        finally:
            bar.close()
        corrupt = reader.corrupt
    index = {
        "source": job.source, "model": model.describe().get("name", model.name), "format": fmt,
        "fps": info.fps, "width": info.width, "height": info.height, "rotation": info.rotation,
        "codec": info.codec, **frame_range.to_json(), "smooth": getattr(model, "smooth", None),
        "overlay": job.overlay.name if job.overlay else None, "maps": None if job.overlay else job.stem,
        "n_frames": len(times), "corrupt_frames": corrupt, "skipped_frames": skipped, "frames": times,
    }
    write_json(job.index_json, index)
    return index


def predict_videos(sources: list[str], out: str | Path, model: str, fmt: str = "png",
                   frame_range: FrameRange = ALL_FRAMES, smooth: float | None = None,
                   num_threads: int = 1, progress: bool = True) -> VideoRun:
    """Plan, load ``model`` once, then map every video; corrupt frames are counted, not fatal."""
    from .temporal import load_frame_model

    frame_range.check()
    jobs = plan_videos(sources, out, fmt)
    frame_model = load_frame_model(model, smooth, num_threads)
    run = VideoRun()
    for job in jobs:
        index = predict_video(job, frame_model, fmt, frame_range, progress)
        run.written.append(job.index_json)
        run.n_frames += index["n_frames"]
        bad = index["corrupt_frames"] + index["skipped_frames"]
        if bad:
            run.problems.append((job.source, f"skipped {bad} corrupt or unusable frame(s); "
                                             f"{index['n_frames']} frame(s) written"))
    return run


def raise_for_problems(run: VideoRun) -> None:
    """Some frames skipped: PartialRunError (exit 3) naming the videos."""
    if run.problems:
        names = ", ".join(f"{Path(s).name} ({why.split(';')[0]})" for s, why in run.problems)
        raise PartialRunError(f"some frames could not be decoded or mapped: {names}")
