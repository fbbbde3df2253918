"""``edgesal crop``: saliency-aware crops of images and folders, and reframing of videos, to given aspects."""

from __future__ import annotations

import click

from edgesal.cli.params import (
    NON_NEGATIVE_FLOAT,
    OUTPUT_FOLDER,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    FiniteFloatRange,
    tta_option,
)
from edgesal.errors import EdgesalError

#: --zoom: the smallest crop side is 1/Z of the largest (1 = largest crop only)
ZOOM = FiniteFloatRange(1.0, 16.0)


class AspectType(click.ParamType):
    """``W:H`` with positive numbers (``1:1``, ``9:16``, ``1.91:1``)."""

    name = "W:H"

    def convert(self, value, param, ctx):
        from edgesal.cropping.aspect import parse_aspect

        try:
            return parse_aspect(value)
        except EdgesalError as exc:
            self.fail(str(exc), param, ctx)


VIDEO_OPTIONS = ("--stride", "--max-frames", "--start", "--end", "--hold", "--max-speed", "--max-accel",
                 "--median")


def _crop_videos(videos: list[str], out: str, aspects: list, model: str, method: str, options: dict,
                 threads: int):
    """Reframe ``videos`` (edgesal.cropping.reframe); echo what was written; the run (for exit 3)."""
    from edgesal.cropping.reframe import PathSettings, reframe_videos
    from edgesal.video.reader import FrameRange

    frame_range = FrameRange(options["stride"] or 1, options["max_frames"], options["start"] or 0.0, options["end"])
    defaults = PathSettings()
    settings = PathSettings(*(options[k] if options[k] is not None else getattr(defaults, k)
                              for k in ("hold", "max_speed", "max_accel", "median")))
    run = reframe_videos(videos, out, aspects, model=model, method=method, frame_range=frame_range,
                         settings=settings, num_threads=threads)
    for source, reason in run.problems:
        click.echo(f"skipped frames of {source}: {reason}", err=True)
    click.echo(f"wrote {len(run.written)} file(s) ({run.n_frames} frame(s) per aspect) for {len(videos)} "
               f"video(s) to {out}")
    return run


def _check_mix(images: list[str], videos: list[str], zoom: float, preview: bool, fmt: str | None, tta: str,
               options: dict) -> None:
    """One-line errors for options that do not apply to the sources given."""
    if not videos and any(v is not None for v in options.values()):
        raise EdgesalError(f"{', '.join(VIDEO_OPTIONS)} apply to video sources only")
    if videos and not images and (zoom != 1.0 or preview or fmt is not None or tta != "none"):
        raise EdgesalError("--zoom, --preview, --format and --tta apply to images only (a video keeps one crop "
                           "size)")


@click.command(epilog="""\b
Examples:
  edgesal crop photo.jpg --aspect 1:1 --aspect 9:16 --out crops
  edgesal crop shots/ --aspect 4:5 --model fast --preview --out crops
  edgesal crop shots/ --aspect 9:16 --method point --out crops_point
  edgesal crop shots/ --aspect 9:16 --tta hflip --out crops   # mirror-averaged maps
  edgesal crop clip.mp4 --aspect 9:16 --aspect 1:1 --model fast --out reframed
  edgesal crop clip.mp4 --aspect 9:16 --stride 2 --start 5 --end 20 --max-speed 0.2 --out reframed

Images: writes <stem>_<W>x<H>.png per image and aspect (and <stem>_preview.png with --preview)
and crops.json: [{image, aspect, x, y, w, h, score}] in pixels of the original image.
Videos (.mp4 .mov .mkv .avi .webm .m4v): writes <stem>_<W>x<H>.mp4 (reframed by a smooth
virtual camera, same fps / stride, no audio) and <stem>_<W>x<H>.path.json (per frame: index,
time, x, y, w, h, cut); see docs/crop.md.
Exit codes: 0 all images / frames cropped; 2 bad input (nothing written);
3 some images or video frames could not be used (skipped and listed; the rest written).""")
@click.argument("sources", nargs=-1, required=True, type=click.Path(), metavar="IMAGE_OR_FOLDER_OR_VIDEO...")
@click.option("--aspect", "aspects", multiple=True, required=True, type=AspectType(),
              help="crop aspect W:H, repeatable (e.g. --aspect 1:1 --aspect 9:16)")
@click.option("--out", required=True, type=OUTPUT_FOLDER,
              help="output folder (not an input folder); crops keep the images' relative paths")
@click.option("--model", default="default", show_default=True,
              help="shipped name (default, fast, video), peer (glimpse, attention-center), .pt or exported model")
@click.option("--method", type=click.Choice(["saliency", "center", "point"]), default="saliency",
              show_default=True, help="saliency: most saliency mass; center: centred; point: centred on the "
              "map's maximum")
@click.option("--zoom", default=1.0, show_default=True, type=ZOOM,
              help="images: allow crops down to 1/ZOOM of the largest side (penalised, see docs/crop.md)")
@click.option("--preview", is_flag=True, help="images: also write the image with the crops drawn on it")
@click.option("--format", "fmt", type=click.Choice(["png", "jpg"]), default=None,
              help="images: format of the crops [png]")
@click.option("--workers", default=4, show_default=True, type=POSITIVE_INT,
              help="threads that decode and encode images around the model")
@click.option("--threads", default=1, show_default=True, type=POSITIVE_INT, help="inference threads")
@tta_option
@click.option("--stride", default=None, type=POSITIVE_INT, help="video: every N-th decoded frame [1]")
@click.option("--max-frames", default=None, type=POSITIVE_INT, help="video: at most N frames per video")
@click.option("--start", default=None, type=NON_NEGATIVE_FLOAT, help="video: first second to use [0]")
@click.option("--end", default=None, type=NON_NEGATIVE_FLOAT, help="video: stop before this second")
@click.option("--hold", default=None, type=NON_NEGATIVE_FLOAT,
              help="video: camera holds still while the target moves less than this fraction of the frame's "
              "longer side [0.04]")
@click.option("--max-speed", default=None, type=POSITIVE_FLOAT,
              help="video: camera speed limit, frame longer sides per second [0.3]")
@click.option("--max-accel", default=None, type=POSITIVE_FLOAT,
              help="video: camera acceleration limit, longer sides per second² [0.75]")
@click.option("--median", default=None, type=NON_NEGATIVE_FLOAT,
              help="video: seconds of running median on the crop targets before the camera follows [0.375]")
def crop(sources: tuple[str, ...], aspects: tuple, out: str, model: str, method: str, zoom: float,
         preview: bool, fmt: str | None, workers: int, threads: int, tta: str, **video_options) -> None:
    """Crop each image of IMAGE_OR_FOLDER... to each --aspect, keeping the most salient part;
    reframe each VIDEO with a smooth virtual camera."""
    from edgesal.cropping.run import check_options, crop_paths, output_names
    from edgesal.prediction import plan_files, raise_for_skipped
    from edgesal.video.predict import raise_for_problems
    from edgesal.video.reader import is_video_source

    videos = [s for s in sources if is_video_source(s)]
    images = [s for s in sources if s not in videos]
    _check_mix(images, videos, zoom, preview, fmt, tta, video_options)
    fmt = fmt or "png"
    parsed = check_options(aspects, method, zoom, fmt)
    if images and videos:  # check both plans before either writes
        plan_files(images, out, lambda rel: output_names(rel, parsed, fmt, preview), command="crop")
    video_run = _crop_videos(videos, out, parsed, model, method, video_options, threads) if videos else None
    if images:
        run = crop_paths(images, out, parsed, model=model, method=method, zoom=zoom, preview=preview,
                         fmt=fmt, workers=workers, num_threads=threads, tta=tta)
        for path, reason in run.skipped:
            click.echo(f"skipped {path}: {reason}", err=True)
        n_images = len({r["image"] for r in run.records})
        click.echo(f"wrote {len(run.written)} file(s) for {n_images} image(s) and crops.json to {out}")
        if len(run.skipped) == 1 and not run.written:
            raise EdgesalError(run.skipped[0][1])
        raise_for_skipped(run, n_images + len(run.skipped))
    if video_run is not None:
        raise_for_problems(video_run)


COMMANDS = [crop]
