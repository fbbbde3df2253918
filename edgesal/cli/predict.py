"""``edgesal predict``: saliency maps for images and folders."""

from __future__ import annotations

import click

from edgesal.cli.params import OUTPUT_FOLDER, POSITIVE_INT


@click.command(epilog="""\b
Examples:
  edgesal predict photo.jpg --out maps
  edgesal predict a.jpg b.png shots/ --out maps --format overlay
  edgesal predict shots/ --out maps --format npy --model fast

Exit codes: 0 all maps written; 2 bad input (nothing written);
3 some images could not be read (skipped and listed; the rest written).""")
@click.argument("sources", nargs=-1, required=True, type=click.Path(), metavar="IMAGE_OR_FOLDER...")
@click.option("--out", required=True, type=OUTPUT_FOLDER,
              help="output folder (not an input folder); maps keep the images' relative paths")
@click.option("--model", default="default", show_default=True,
              help="shipped name (default, fast), .pt checkpoint or exported .onnx/.tflite/.xml")
@click.option("--format", "fmt", type=click.Choice(["npy", "png", "overlay"]), default="png", show_default=True,
              help="npy: float map; png: 8-bit map; overlay: heat map blended on the image")
@click.option("--threads", default=1, show_default=True, type=POSITIVE_INT, help="inference threads")
def predict(sources: tuple[str, ...], out: str, model: str, fmt: str, threads: int) -> None:
    """Write a saliency map per image of IMAGE_OR_FOLDER... (folders are searched recursively)."""
    from edgesal.prediction import predict_paths, raise_for_skipped

    run = predict_paths(list(sources), out, model, fmt, num_threads=threads)
    for path, reason in run.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    click.echo(f"wrote {len(run.written)} map(s) to {out}")
    raise_for_skipped(run, len(run.written) + len(run.skipped))


COMMANDS = [predict]
