"""``edgesal crop VIDEO``: reframe a video to other aspect ratios with a smooth virtual camera.

Two passes over the file, so memory stays flat for any length:

1. decode → saliency map per frame (any frame model, :func:`edgesal.video.temporal.load_frame_model`)
   → the best crop's centre per aspect (:func:`~edgesal.cropping.path.crop_centres`) and the
   shot cuts (:class:`~edgesal.cropping.cuts.CutDetector`); only numbers are kept;
2. the camera path per aspect (:func:`~edgesal.cropping.path.smooth_path`: still inside a dead
   band, bounded speed and acceleration, a jump at each cut), then decode again and write each
   frame's window to ``DIR/<stem>_<W>x<H>.mp4`` (same frame rate / stride; no audio), and the
   path to ``DIR/<stem>_<W>x<H>.path.json``.

Window sides are rounded down to even pixels (H.264 4:2:0), so a video crop may be one pixel
narrower than the image crop of the same aspect. Videos are written atomically (all aspects of a
video appear together when it is done), then the JSON paths.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgesal.atomic import write_json
from edgesal.cropping.aspect import Aspect, crop_size
from edgesal.cropping.cuts import CutDetector
from edgesal.cropping.jitter import path_jitter, window_centres
from edgesal.cropping.path import crop_centres, smooth_path, window_at
from edgesal.errors import EdgesalError
from edgesal.video.frame_models import FrameModel
from edgesal.video.predict import VideoRun, plan_videos
from edgesal.video.reader import ALL_FRAMES, FrameRange, VideoInfo, VideoReader, is_camera
from edgesal.video.writer import open_video_writer

#: keys of each frame of a .path.json, in order
FRAME_KEYS = ("index", "time", "x", "y", "w", "h", "cut")


@dataclass(frozen=True)
class PathSettings:
    """The virtual camera, relative to the frame: ``hold`` (dead band) as a fraction of the frame's
    longer side; ``max_speed`` in longer sides per second; ``max_accel`` in longer sides per second²;
    ``median``: seconds of the running median the targets pass first (0: none). Defaults chosen
    on simulated osie:val + scene:val clips (docs/crop.md): the least jitter, every setting
    within 0.002 of the best fixation fraction."""

    hold: float = 0.04
    max_speed: float = 0.3
    max_accel: float = 0.75
    median: float = 0.375

    def check(self) -> None:
        if not (self.hold >= 0 and self.max_speed > 0 and self.max_accel > 0 and self.median >= 0):
            raise EdgesalError(f"camera path settings must be positive (hold, median ≥ 0): {asdict(self)}")

    def for_frames(self, frame_hw: tuple[int, int], fps: float) -> dict[str, float]:
        """``smooth_path`` keywords: hold (px), max_speed (px / frame), max_accel (px / frame²), median (frames)."""
        side = max(frame_hw)
        return {"hold": self.hold * side, "max_speed": self.max_speed * side / fps,
                "max_accel": self.max_accel * side / fps ** 2, "median": round(self.median * fps) | 1}


@dataclass
class Track:
    """Pass 1 of a video: per used frame its index and time, the crop centre per aspect, the cuts."""

    indices: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)  # positions (into indices) of first frames of new shots
    centres: dict[str, list[np.ndarray]] = field(default_factory=dict)
    skipped: int = 0


def video_window_size(frame_hw: tuple[int, int], aspect: Aspect) -> tuple[int, int]:
    """(h, w) of the largest ``aspect`` crop with both sides rounded down to even (≥ 2 where possible)."""
    h, w = crop_size(frame_hw, aspect)
    return max(h - h % 2, min(h, 2)), max(w - w % 2, min(w, 2))


def output_paths(out: Path, stem: str, aspect: Aspect) -> tuple[Path, Path]:
    """(``out/<stem>_<W>x<H>.mp4``, ``out/<stem>_<W>x<H>.path.json``)."""
    return out / f"{stem}_{aspect.tag}.mp4", out / f"{stem}_{aspect.tag}.path.json"


def plan_reframes(sources: list[str], out: str | Path, aspects: list[Aspect]) -> list[tuple[str, str]]:
    """(source, stem) per video, checked before anything runs (readable, a file, no output on an input)."""
    cameras = [s for s in sources if is_camera(s)]
    if cameras:
        raise EdgesalError(f"{cameras[0]}: reframing reads a video twice and cannot use a live camera; "
                           "record a file first")
    jobs = plan_videos(sources, out, "npy")
    inputs = {Path(s).resolve() for s in sources}
    for job in jobs:
        for aspect in aspects:
            hit = next((p for p in output_paths(Path(out).resolve(), job.stem, aspect) if p in inputs), None)
            if hit is not None:
                raise EdgesalError(f"output {hit} would overwrite an input: choose another --out")
    return [(job.source, job.stem) for job in jobs]


def frame_total(info: VideoInfo, frame_range: FrameRange) -> int | None:
    """Frames a progress bar expects (header estimate, stride and --max-frames applied)."""
    total = info.n_frames // frame_range.stride if info.n_frames else None
    if frame_range.max_frames is not None:
        total = min(total or frame_range.max_frames, frame_range.max_frames)
    return total


def track_video(source: str, model: FrameModel, aspects: list[Aspect], frame_range: FrameRange = ALL_FRAMES,
                method: str = "saliency", detector: CutDetector | None = None,
                progress: bool = True) -> tuple[VideoInfo, Track, int]:
    """Pass 1: (video info, crop centres and cuts of the used frames, corrupt frame count)."""
    detector = detector or CutDetector()
    track = Track(centres={a.text: [] for a in aspects})
    with VideoReader(source) as reader:
        model.reset()
        bar = tqdm(total=frame_total(reader.info, frame_range), desc=f"{Path(source).stem} 1/2 maps",
                   unit="frame", disable=not progress)
        with bar:
            for frame in reader.frames(frame_range):
                cut = detector.update(frame.image) and bool(track.indices)
                if cut:
                    model.reset()  # temporal models start over in a new shot
                try:
                    saliency = model.predict(frame.image)
                except EdgesalError:
                    track.skipped += 1
                    continue
                if cut:
                    track.cuts.append(len(track.indices))
                track.indices.append(frame.index)
                track.times.append(frame.time)
                for aspect in aspects:
                    track.centres[aspect.text].append(crop_centres([saliency], aspect, method=method)[0])
                bar.update()
        if not track.indices:
            raise EdgesalError(f"{source}: no usable frame in the selected range "
                               f"(start {frame_range.start}s, end {frame_range.end}s)")
        return reader.info, track, reader.corrupt


def camera_windows(track: Track, aspect: Aspect, frame_hw: tuple[int, int], pixels: dict[str, float]) -> np.ndarray:
    """(T, 4) windows x, y, w, h of the smoothed camera path of one aspect."""
    path = smooth_path(np.asarray(track.centres[aspect.text]), cuts=track.cuts, **pixels)
    size = video_window_size(frame_hw, aspect)
    return np.array([window_at(tuple(c), frame_hw, aspect, size) for c in path], dtype=np.int64).reshape(-1, 4)


def write_reframed(source: str, targets: list[Path], windows: list[np.ndarray], track: Track,
                   frame_range: FrameRange, fps: float, progress: bool = True) -> None:
    """Pass 2: decode again and write each target video from its windows (all atomically)."""
    row_of = {index: row for row, index in enumerate(track.indices)}
    written = 0
    with contextlib.ExitStack() as stack:
        encoders = [stack.enter_context(open_video_writer(t, fps)) for t in targets]
        reader = stack.enter_context(VideoReader(source))
        bar = stack.enter_context(tqdm(total=len(row_of), desc=f"{Path(source).stem} 2/2 write", unit="frame",
                                       disable=not progress))
        for frame in reader.frames(frame_range):
            row = row_of.get(frame.index)
            if row is None:
                continue
            for encoder, win in zip(encoders, windows):
                x, y, w, h = (int(v) for v in win[row])
                encoder.write(frame.image[y:y + h, x:x + w])
            written += 1
            bar.update()
        if written != len(row_of):
            raise EdgesalError(f"{source}: the second decoding gave {written} of {len(row_of)} frames; "
                               "the file changed or decodes differently (nothing written)")


def path_document(source: str, info: VideoInfo, aspect: Aspect, windows: np.ndarray, track: Track,
                  meta: dict) -> dict:
    """The ``.path.json`` of one aspect: settings, jitter and per frame index, time, x, y, w, h, cut."""
    cuts = set(track.cuts)
    frames = [dict(zip(FRAME_KEYS, (index, time, *(int(v) for v in win), row in cuts)))
              for row, (index, time, win) in enumerate(zip(track.indices, track.times, windows))]
    jitter = path_jitter(window_centres(windows), meta["fps"], track.cuts)
    return {"source": source, "aspect": aspect.text, "video": output_paths(Path(), Path(source).stem, aspect)[0].name,
            **meta, "width": info.width, "height": info.height, "crop_width": int(windows[0, 2]),
            "crop_height": int(windows[0, 3]), "jitter": jitter.to_json(), "n_frames": len(frames),
            "cut_frames": [track.indices[r] for r in track.cuts], "frames": frames}


@dataclass
class Reframed:
    """One reframed video: its .path.json documents (one per aspect), pass-1 track, frames lost."""

    documents: list[dict]
    track: Track
    info: VideoInfo
    bad_frames: int


def reframe_video(source: str, out: str | Path, aspects: list[Aspect], model: FrameModel, method: str = "saliency",
                  frame_range: FrameRange = ALL_FRAMES, settings: PathSettings | None = None,
                  progress: bool = True) -> Reframed:
    """Reframe one video to every aspect; write the videos and their paths."""
    settings = settings or PathSettings()
    detector = CutDetector()
    info, track, corrupt = track_video(source, model, aspects, frame_range, method, detector, progress)
    frame_hw = (info.height, info.width)
    fps = (info.fps or 25.0) / frame_range.stride
    pixels = settings.for_frames(frame_hw, fps)
    windows = [camera_windows(track, a, frame_hw, pixels) for a in aspects]
    stem = Path(source).stem
    write_reframed(source, [output_paths(Path(out), stem, a)[0] for a in aspects], windows, track, frame_range,
                   fps, progress)
    meta = {"model": model.describe().get("name", model.name), "method": method, "fps": fps,
            "source_fps": info.fps, **frame_range.to_json(),
            "path": {**asdict(settings), "units": "hold: longer frame side; max_speed: sides/s; max_accel: "
                     "sides/s²; median: s", "hold_px": round(pixels["hold"], 4),
                     "max_speed_px_per_frame": round(pixels["max_speed"], 4),
                     "max_accel_px_per_frame2": round(pixels["max_accel"], 4), "median_frames": pixels["median"]},
            "cut_detection": detector.settings(), "corrupt_frames": corrupt, "skipped_frames": track.skipped}
    documents = [path_document(source, info, a, w, track, meta) for a, w in zip(aspects, windows)]
    for aspect, document in zip(aspects, documents):
        write_json(output_paths(Path(out), stem, aspect)[1], document)
    return Reframed(documents, track, info, corrupt + track.skipped)


def reframe_videos(sources: list[str], out: str | Path, aspects: list[Aspect], model: str = "default",
                   method: str = "saliency", frame_range: FrameRange = ALL_FRAMES,
                   settings: PathSettings | None = None, num_threads: int = 1, progress: bool = True) -> VideoRun:
    """Plan every video, load ``model`` once, reframe each; corrupt frames are counted (exit 3), not fatal."""
    from edgesal.video.temporal import load_frame_model

    frame_range.check()
    (settings or PathSettings()).check()
    jobs = plan_reframes(sources, out, aspects)
    frame_model = load_frame_model(model, None, num_threads)
    run = VideoRun()
    for source, stem in jobs:
        done = reframe_video(source, out, aspects, frame_model, method, frame_range, settings, progress)
        run.written += [p for a in aspects for p in output_paths(Path(out), stem, a)]
        n_frames = done.documents[0]["n_frames"]
        run.n_frames += n_frames
        if done.bad_frames:
            run.problems.append((source, f"skipped {done.bad_frames} corrupt or unusable frame(s); "
                                         f"{n_frames} frame(s) written"))
    return run
