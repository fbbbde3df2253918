"""Video reframing benchmark: fixations kept and jitter of `edgesal crop VIDEO` on simulated clips.

Clips are made by ``edgesal simulate-video`` (deterministic from ``--seed``) from OSIE test and
Scene test images: each clip strings ``--shots`` shots (pan, zoom or static view, hand-held
shake; a cut between shots) and carries every human fixation of the source image through the
camera exactly. Each clip is reframed by the library (``edgesal.cropping.reframe.reframe_video``:
both passes, the mp4 and the .path.json written) and three windows per frame are scored:

- ``reframed``: the smoothed camera path, read back from the written .path.json;
- ``raw per-frame crop``: each frame's best crop on its own (no smoothing);
- ``fixed centre crop``: the centred window of the same size.

Per path: the fraction of the frame's fixations inside the window (mean over frames that have
fixations; all frames and pan-shot frames), and its jitter (``edgesal.cropping.jitter``: mean
|second difference| of the window centre in px/frame², direction reversals per second; pairs
across the true cuts are left out). Also the shot-cut detector's precision and recall against
the true cuts, and reframing speed (both passes, all aspects).

    python benchmarks/reframe.py --model fast --clips 6 --out docs/results/crop.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from edgesal.cropping import parse_aspect
from edgesal.cropping.jitter import path_jitter, window_centres
from edgesal.cropping.path import window_at
from edgesal.cropping.reframe import Reframed, output_paths, reframe_video, video_window_size
from edgesal.video.simulate import MANIFEST, SimulationSettings, simulate_videos
from edgesal.video.temporal import load_frame_model

SETS = ("osie", "scene")
PATHS = ("reframed", "raw per-frame crop", "fixed centre crop")
SECTION = "## Video reframing benchmark"
COLUMNS = ("all", "pan", "jitter", "reversals", "accel")


def inside(windows: np.ndarray, points: np.ndarray) -> float:
    """Fraction of ``points`` (x, y pixels, centres at integers) whose pixel is in window (x, y, w, h)."""
    x, y, w, h = windows
    px, py = points[:, 0], points[:, 1]
    return float(((px >= x - 0.5) & (px < x + w - 0.5) & (py >= y - 0.5) & (py < y + h - 0.5)).mean())


def read_fixations(path: Path) -> dict[int, np.ndarray]:
    """frame → (N, 2) fixation points of a simulated clip's CSV (frame, x, y, observer)."""
    rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {int(f): rows[rows[:, 0] == f, 1:3] for f in np.unique(rows[:, 0])} if len(rows) else {}


def candidate_windows(done: Reframed, document: dict, aspect_text: str) -> dict[str, np.ndarray]:
    """(T, 4) windows of each scored path for one aspect."""
    frame_hw = (done.info.height, done.info.width)
    aspect = parse_aspect(aspect_text)
    size = video_window_size(frame_hw, aspect)
    raw = [window_at(tuple(c), frame_hw, aspect, size) for c in done.track.centres[aspect_text]]
    centre = window_at(((frame_hw[1]) / 2, frame_hw[0] / 2), frame_hw, aspect, size)
    return {"reframed": np.array([[f[k] for k in "xywh"] for f in document["frames"]]),
            "raw per-frame crop": np.array(raw), "fixed centre crop": np.array([centre] * len(raw))}


def score_clip(clip: dict, root: Path, done: Reframed, out: Path, aspects: list[str], fps: float, acc: dict) -> None:
    """Add one clip's fixation fractions and jitter per (aspect, path) to ``acc``."""
    fixations = read_fixations(root / clip["fixations"])
    shots = [f["shot"] for f in clip["frames"]]
    kinds = [f["kind"] for f in clip["frames"]]
    true_cuts = [t for t in range(1, len(shots)) if shots[t] != shots[t - 1]]
    found = [done.track.indices[r] for r in done.track.cuts]
    acc["cuts"]["true"] += len(true_cuts)
    acc["cuts"]["found"] += len(found)
    acc["cuts"]["hit"] += len(set(found) & set(true_cuts))
    for aspect in aspects:
        document = json.loads(output_paths(out, Path(clip["video"]).stem, parse_aspect(aspect))[1].read_text())
        for name, windows in candidate_windows(done, document, aspect).items():
            key = (aspect, name)
            for row, index in enumerate(done.track.indices):
                if index in fixations:
                    fraction = inside(windows[row], fixations[index])
                    acc["all"][key].append(fraction)
                    if kinds[index] == "pan":
                        acc["pan"][key].append(fraction)
            jitter = path_jitter(window_centres(windows), fps, true_cuts)
            acc["accel"][key].append(jitter.accel)
            acc["jitter"][key].append(jitter.jitter_per_s)
            acc["reversals"][key].append(jitter.reversals_per_s)


def run_set(name: str, work: Path, args, model) -> tuple[dict, int, float]:
    """Simulate ``name`` test clips, reframe and score them: (accumulators, frames, frames per second)."""
    settings = SimulationSettings(frames=args.frames, shots=args.shots, seed=args.seed)
    manifest = json.loads(simulate_videos(name, work / name, split="test", clips=args.clips, settings=settings,
                                          progress=False).read_text())
    acc: dict = {k: defaultdict(list) for k in COLUMNS}
    acc["cuts"] = defaultdict(int)
    aspects = [parse_aspect(a) for a in args.aspect]
    frames, seconds = 0, 0.0
    for clip in manifest["clips"]:
        out = work / f"{name}_reframed"
        start = time.perf_counter()
        done = reframe_video(str(work / name / clip["video"]), out, aspects, model, progress=False)
        seconds += time.perf_counter() - start
        frames += len(done.track.indices)
        score_clip(clip, work / name, done, out, args.aspect, settings.fps, acc)
    return acc, frames, frames / seconds


def report(name: str, acc: dict, n_clips: int, frames: int, fps: float, aspects: list[str]) -> str:
    """One set's Markdown table, the goal check and the cut detector's numbers."""
    lines = [f"### {name} test: {n_clips} simulated clips, {frames} frames\n",
             "| aspect | path | fixations inside (all frames) | fixations inside (pan shots) | "
             "jitter (oscillation reversals / s) | all reversals / s | mean \\|Δ²c\\| px/frame² |",
             "|---|---|---|---|---|---|---|"]
    goal = True
    for aspect in aspects:
        mean = {p: {k: float(np.mean(acc[k][(aspect, p)])) for k in COLUMNS} for p in PATHS}
        lines += [f"| {aspect} | {p} | " + " | ".join(f"{m[k]:.3f}" if k in ("all", "pan") else f"{m[k]:.2f}"
                                                       for k in COLUMNS) + " |" for p, m in mean.items()]
        goal &= (mean["reframed"]["all"] > mean["fixed centre crop"]["all"] and mean["reframed"]["jitter"] == 0.0)
    cuts = acc["cuts"]
    precision = cuts["hit"] / cuts["found"] if cuts["found"] else float("nan")
    lines.append(f"\ngoal (reframed keeps more fixations than the fixed centre crop, jitter 0 / s): "
                 f"**{'met' if goal else 'NOT met'}**\n")
    lines.append(f"shot cuts: {cuts['hit']} of {cuts['true']} true cuts found, {cuts['found']} reported "
                 f"(recall {cuts['hit'] / max(cuts['true'], 1):.2f}, precision {precision:.2f}); reframing speed "
                 f"{fps:.1f} frames/s (both passes, {len(aspects)} aspects, 320×240)\n")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--clips", type=int, default=12, help="clips per test set")
    parser.add_argument("--frames", type=int, default=48, help="frames per clip (24 fps, 320×240)")
    parser.add_argument("--shots", type=int, default=2, help="shots per clip")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--aspect", action="append", default=None, help="aspects [9:16, 4:5]")
    parser.add_argument("--out", default=None, help="write the section into this Markdown file")
    args = parser.parse_args(argv)
    args.aspect = args.aspect or ["9:16", "4:5"]
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", module="edgesal.data")
    model = load_frame_model(args.model, None, 1)
    parts = [SECTION + "\n", f"Command: `python benchmarks/reframe.py {' '.join(argv or sys.argv[1:])}` "
             f"(model `{args.model}`, 1 thread, seed {args.seed}, {args.frames} frames × {args.shots} shots per clip; "
             "camera path defaults of `edgesal.cropping.reframe.PathSettings`)\n"]
    with tempfile.TemporaryDirectory(prefix="edgesal-reframe-") as tmp:
        for name in SETS:
            acc, frames, fps = run_set(name, Path(tmp), args, model)
            n_clips = len(json.loads((Path(tmp) / name / MANIFEST).read_text())["clips"])
            text = report(name, acc, n_clips, frames, fps, args.aspect)
            parts.append(text)
            print(text, flush=True)
    if args.out:  # only this section: the crop benchmark writes its own into the same file
        from edgesal.atomic import write_section

        write_section(args.out, SECTION, "\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
