"""``edgesal evaluate``: metrics of a model or a folder of maps on a dataset split."""

from __future__ import annotations

import click

from edgesal.atomic import write_json
from edgesal.cli.tables import print_table
from edgesal.errors import EdgesalError


@click.command()
@click.option("--data", required=True, help="dataset name (osie, scene, eyecrowd, …) or folder")
@click.option("--split", default="test", show_default=True, help="train, val, test or all")
@click.option("--model", "model", default=None, help="model name or file (.pt, .onnx, .tflite, .xml)")
@click.option("--maps", "maps_dir", default=None, type=click.Path(), help="folder of <stem>.npy/.png maps")
@click.option("--json", "json_out", default=None, type=click.Path(), help="write the means as JSON")
@click.option("--limit", default=None, type=int, help="only the first N images")
@click.option("--threads", default=1, show_default=True, help="inference threads")
def evaluate(data: str, split: str, model: str | None, maps_dir: str | None,
             json_out: str | None, limit: int | None, threads: int) -> None:
    """Score saliency predictions against human fixations (MIT-benchmark metrics)."""
    from edgesal.evaluation import METRIC_KEYS, evaluate as run_evaluation, maps_dir_source, predictor_source
    from edgesal.predictors import load_predictor

    if (model is None) == (maps_dir is None):
        raise EdgesalError("give exactly one of --model or --maps")
    if model is not None:
        source = predictor_source(load_predictor(model, data=data, num_threads=threads))
        label = model
    else:
        source = maps_dir_source(maps_dir)
        label = str(maps_dir)
    result = run_evaluation(data, source, split=split, limit=limit)
    keys = list(METRIC_KEYS) + (["ll"] if "ll" in result.means else [])
    print_table(
        f"{data} / {split}",
        ["model", "n_images"] + keys,
        [[label, str(result.n_images)] + [f"{result.means[k]:.4f}" for k in keys]],
    )
    if json_out:
        payload = {**result.to_json(), "model": label, "data": data, "split": split}
        write_json(json_out, payload)
        click.echo(f"wrote {json_out}")


COMMANDS = [evaluate]
