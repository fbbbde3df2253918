"""``edgesal crop``: saliency-aware crops of images and folders to given aspect ratios."""

from __future__ import annotations

import click

from edgesal.cli.params import OUTPUT_FOLDER, POSITIVE_INT, FiniteFloatRange
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


@click.command(epilog="""\b
Examples:
  edgesal crop photo.jpg --aspect 1:1 --aspect 9:16 --out crops
  edgesal crop shots/ --aspect 4:5 --model fast --preview --out crops
  edgesal crop shots/ --aspect 9:16 --method point --out crops_point

Writes <stem>_<W>x<H>.png per image and aspect (and <stem>_preview.png with --preview)
and crops.json: [{image, aspect, x, y, w, h, score}] in pixels of the original image.
Exit codes: 0 all images cropped; 2 bad input (nothing written);
3 some images could not be used (skipped and listed; the rest written).""")
@click.argument("sources", nargs=-1, required=True, type=click.Path(), metavar="IMAGE_OR_FOLDER...")
@click.option("--aspect", "aspects", multiple=True, required=True, type=AspectType(),
              help="crop aspect W:H, repeatable (e.g. --aspect 1:1 --aspect 9:16)")
@click.option("--out", required=True, type=OUTPUT_FOLDER,
              help="output folder (not an input folder); crops keep the images' relative paths")
@click.option("--model", default="default", show_default=True,
              help="shipped name (default, fast), peer (glimpse, attention-center), .pt or exported model")
@click.option("--method", type=click.Choice(["saliency", "center", "point"]), default="saliency",
              show_default=True, help="saliency: most saliency mass; center: centred; point: centred on the "
              "map's maximum")
@click.option("--zoom", default=1.0, show_default=True, type=ZOOM,
              help="allow crops down to 1/ZOOM of the largest side (penalised, see docs/crop.md)")
@click.option("--preview", is_flag=True, help="also write the image with the crops drawn on it")
@click.option("--format", "fmt", type=click.Choice(["png", "jpg"]), default="png", show_default=True,
              help="image format of the crops")
@click.option("--workers", default=4, show_default=True, type=POSITIVE_INT,
              help="threads that decode and encode images around the model")
@click.option("--threads", default=1, show_default=True, type=POSITIVE_INT, help="inference threads")
def crop(sources: tuple[str, ...], aspects: tuple, out: str, model: str, method: str, zoom: float,
         preview: bool, fmt: str, workers: int, threads: int) -> None:
    """Crop each image of IMAGE_OR_FOLDER... to each --aspect, keeping the most salient part."""
    from edgesal.cropping.run import crop_paths
    from edgesal.prediction import raise_for_skipped

    run = crop_paths(list(sources), out, aspects, model=model, method=method, zoom=zoom, preview=preview,
                     fmt=fmt, workers=workers, num_threads=threads)
    for path, reason in run.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    images = len({r["image"] for r in run.records})
    click.echo(f"wrote {len(run.written)} file(s) for {images} image(s) and crops.json to {out}")
    if len(run.skipped) == 1 and not run.written:
        raise EdgesalError(run.skipped[0][1])
    raise_for_skipped(run, images + len(run.skipped))


COMMANDS = [crop]
