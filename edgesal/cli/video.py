"""``edgesal simulate-video``: labelled clips from a fixation dataset by a simulated camera."""

from __future__ import annotations

import click

from edgesal.cli.params import NON_NEGATIVE_INT, OUTPUT_FOLDER, POSITIVE_FLOAT, POSITIVE_INT

SPLIT_CHOICES = ("train", "val", "test", "all")


@click.command("simulate-video", epilog="""\b
Examples:
  edgesal simulate-video --data osie --split test --out sim/osie --seed 0
  edgesal evaluate --data sim/osie --model default --smooth 0.5""")
@click.option("--data", required=True, help="image dataset name (osie, scene, eyecrowd, …) or folder")
@click.option("--split", default="test", show_default=True, type=click.Choice(SPLIT_CHOICES, case_sensitive=False))
@click.option("--out", required=True, type=OUTPUT_FOLDER, help="folder for simulated.json, videos/, fixations/")
@click.option("--clips", default=None, type=POSITIVE_INT, help="number of clips [all the split allows]")
@click.option("--frames", default=48, show_default=True, type=POSITIVE_INT, help="frames per clip")
@click.option("--shots", default=2, show_default=True, type=POSITIVE_INT, help="shots (source images) per clip")
@click.option("--fps", default=24.0, show_default=True, type=POSITIVE_FLOAT)
@click.option("--size", default=(320, 240), show_default=True, type=(POSITIVE_INT, POSITIVE_INT),
              metavar="W H", help="frame size")
@click.option("--seed", default=0, show_default=True, type=NON_NEGATIVE_INT)
def simulate_video(data: str, split: str, out: str, clips: int | None, frames: int, shots: int, fps: float,
                   size: tuple[int, int], seed: int) -> None:
    """Write simulated camera clips (pans, zooms, shake, cuts) over DATA images with their fixations."""
    from edgesal.video.simulate import SimulationSettings, simulate_videos

    settings = SimulationSettings(frames=frames, shots=shots, fps=fps, width=size[0], height=size[1], seed=seed)
    manifest = simulate_videos(data, out, split=split, clips=clips, settings=settings)
    click.echo(f"wrote {manifest}")


COMMANDS = [simulate_video]
