"""``edgesal predict``: saliency maps for images, folders and videos."""

from __future__ import annotations

import click

from edgesal.cli.params import NON_NEGATIVE_FLOAT, OUTPUT_FOLDER, POSITIVE_INT, FiniteFloatRange, tta_option
from edgesal.errors import EdgesalError

#: the newest frame's weight of --smooth (edgesal.video.frame_models)
SMOOTH_WEIGHT = FiniteFloatRange(0.0, 1.0, min_open=True)


@click.command(epilog="""\b
Examples:
  edgesal predict photo.jpg --out maps
  edgesal predict a.jpg b.png shots/ --out maps --format overlay
  edgesal predict shots/ --out maps --format npy --model fast
  edgesal predict photo.jpg --out maps --tta hflip   # mirror-averaged map (2x the time)
  edgesal predict clip.mp4 --out maps --format overlay --smooth 0.3
  edgesal predict clip.mp4 --out maps --stride 5 --start 2 --end 10

Videos (.mp4 .mov .mkv .avi .webm, or camera:N) give DIR/<stem>/<frame>.npy|png or
DIR/<stem>_overlay.mp4, plus DIR/<stem>.json (frame → time); see docs/video.md.

Exit codes: 0 all maps written; 2 bad input (nothing written);
3 some images or video frames could not be read (skipped and listed; the rest written).""")
@click.argument("sources", nargs=-1, required=True, type=click.Path(), metavar="IMAGE_OR_FOLDER_OR_VIDEO...")
@click.option("--out", required=True, type=OUTPUT_FOLDER,
              help="output folder (not an input folder); maps keep the images' relative paths")
@click.option("--model", default="default", show_default=True,
              help="shipped name (default, fast), .pt checkpoint or exported .onnx/.tflite/.xml")
@click.option("--format", "fmt", type=click.Choice(["npy", "png", "overlay"]), default="png", show_default=True,
              help="npy: float map; png: 8-bit map; overlay: heat map blended on the image (video: an .mp4)")
@click.option("--threads", default=1, show_default=True, type=POSITIVE_INT, help="inference threads")
@click.option("--stride", default=None, type=POSITIVE_INT, help="video: every N-th decoded frame [1]")
@click.option("--max-frames", default=None, type=POSITIVE_INT, help="video: at most N frames per video")
@click.option("--start", default=None, type=NON_NEGATIVE_FLOAT, help="video: first second to map [0]")
@click.option("--end", default=None, type=NON_NEGATIVE_FLOAT, help="video: stop before this second")
@click.option("--smooth", default=None, type=SMOOTH_WEIGHT,
              help="video: temporal EMA of the maps, weight of the newest frame in (0, 1]")
@tta_option
def predict(sources: tuple[str, ...], out: str, model: str, fmt: str, threads: int, stride: int | None,
            max_frames: int | None, start: float | None, end: float | None, smooth: float | None,
            tta: str) -> None:
    """Write a saliency map per image of IMAGE_OR_FOLDER... (folders are searched recursively)
    and per frame of each VIDEO."""
    from edgesal.prediction import plan_outputs, predict_paths, raise_for_skipped
    from edgesal.video.predict import plan_videos, predict_videos, raise_for_problems
    from edgesal.video.reader import FrameRange, is_video_source

    videos = [s for s in sources if is_video_source(s)]
    images = [s for s in sources if s not in videos]
    frame_range = FrameRange(stride or 1, max_frames, start or 0.0, end)
    video_options = (stride, max_frames, start, end, smooth)
    if not videos and any(v is not None for v in video_options):
        raise EdgesalError("--stride, --max-frames, --start, --end and --smooth apply to video sources only")
    if videos and tta != "none":
        raise EdgesalError("--tta applies to images only (videos: --smooth)")
    frame_range.check()
    if images and videos:  # check both plans before either writes
        plan_outputs(images, out, fmt)
        plan_videos(videos, out, fmt)
    video_run = None
    if videos:
        video_run = predict_videos(videos, out, model, fmt, frame_range, smooth, num_threads=threads)
        for source, reason in video_run.problems:
            click.echo(f"skipped frames of {source}: {reason}", err=True)
        click.echo(f"wrote {video_run.n_frames} frame map(s) of {len(videos)} video(s) to {out}")
    if images:
        run = predict_paths(images, out, model, fmt, num_threads=threads, tta=tta)
        for path, reason in run.skipped:
            click.echo(f"skipped {path}: {reason}", err=True)
        click.echo(f"wrote {len(run.written)} map(s) to {out}")
        raise_for_skipped(run, len(run.written) + len(run.skipped))
    if video_run is not None:
        raise_for_problems(video_run)


COMMANDS = [predict]
