"""``edgesal predict``: saliency maps for an image or a folder."""

from __future__ import annotations

import click


@click.command()
@click.argument("source", type=click.Path())
@click.option("--out", required=True, type=click.Path(), help="output folder")
@click.option("--model", default="default", show_default=True, help="model name or file")
@click.option("--format", "fmt", type=click.Choice(["npy", "png", "overlay"]), default="png", show_default=True)
@click.option("--threads", default=1, show_default=True)
def predict(source: str, out: str, model: str, fmt: str, threads: int) -> None:
    """Write a saliency map per image (npy: float map; png: 8-bit map; overlay: heat map on the image)."""
    from edgesal.prediction import predict_paths

    written = predict_paths(source, out, model, fmt, num_threads=threads)
    click.echo(f"wrote {len(written)} map(s) to {out}")


COMMANDS = [predict]
