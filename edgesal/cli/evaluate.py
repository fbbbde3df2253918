"""``edgesal evaluate``: metrics of a model or a folder of maps on a dataset split."""

from __future__ import annotations

import click

from edgesal.atomic import write_json
from edgesal.cli.params import OUTPUT_FILE, POSITIVE_INT, input_folder, tta_option
from edgesal.cli.predict import SMOOTH_WEIGHT
from edgesal.cli.tables import print_table
from edgesal.errors import EdgesalError

#: the names of edgesal.data.splits.SPLIT_NAMES (not imported: it would slow every CLI start)
SPLIT_CHOICES = ("train", "val", "test", "all")


def _title(data: str, split: str, seeded: bool) -> str:
    """Table title naming the dataset and split, and saying when the split is a seeded one."""
    note = " (seeded split: seed-0 random 70/15/15 partition, no committed split)" if seeded else ""
    return f"{data} / {split}{note}"


@click.command(epilog="""\b
Examples:
  edgesal evaluate --data osie --model default
  edgesal evaluate --data osie --split val --model runs/export/default_int8.tflite --json val.json
  edgesal evaluate --data my_folder --maps my_maps   # generic folder: every image is scored""")
@click.option("--data", required=True, help="dataset name (osie, scene, eyecrowd, …) or folder")
@click.option("--split", default=None, type=click.Choice(SPLIT_CHOICES, case_sensitive=False),
              help="split to score [default: the held-out split of a dataset with an official or "
                   "committed split (osie, scene: test; salicon: val), else all images]")
@click.option("--model", "model", default=None, help="model name or file (.pt, .onnx, .tflite, .xml)")
@click.option("--maps", "maps_dir", default=None, type=input_folder("maps folder"),
              help="folder of <stem>.npy/.png maps")
@click.option("--json", "json_out", default=None, type=OUTPUT_FILE, help="write the means as JSON")
@click.option("--limit", default=None, type=POSITIVE_INT, help="only the first N images (N ≥ 1)")
@click.option("--threads", default=1, show_default=True, type=POSITIVE_INT, help="inference threads")
@click.option("--smooth", default=None, type=SMOOTH_WEIGHT,
              help="video datasets: temporal EMA of the maps, weight of the newest frame in (0, 1]")
@tta_option
def evaluate(data: str, split: str | None, model: str | None, maps_dir: str | None,
             json_out: str | None, limit: int | None, threads: int, smooth: float | None, tta: str) -> None:
    """Score saliency predictions against human fixations (MIT-benchmark metrics; video datasets:
    per-frame means and temporal stability, docs/video.md)."""
    from edgesal.data.registry import dataset_kind
    from edgesal.evaluation import METRIC_KEYS, maps_dir_source, predictor_source
    from edgesal.evaluation import evaluate as run_evaluation
    from edgesal.predictors import load_predictor

    if (model is None) == (maps_dir is None):
        raise EdgesalError("give exactly one of --model or --maps")
    import edgesal.video.datasets  # noqa: F401  (video dataset formats register themselves)

    if tta != "none" and model is None:
        raise EdgesalError("--tta needs --model (precomputed --maps are scored as they are)")
    if dataset_kind(data) == "video":
        if tta != "none":
            raise EdgesalError("--tta applies to image datasets only (video: --smooth)")
        _evaluate_video(data, split, model, maps_dir, json_out, limit, threads, smooth)
        return
    if smooth is not None:
        raise EdgesalError("--smooth applies to video datasets only")
    if model is not None:
        source = predictor_source(load_predictor(model, tta=tta, data=data, num_threads=threads))
        label = model + ("" if tta == "none" else f" (tta {tta})")
    else:
        source = maps_dir_source(maps_dir)
        label = str(maps_dir)
    result = run_evaluation(data, source, split=split, limit=limit)
    keys = list(METRIC_KEYS) + (["ll"] if "ll" in result.means else [])
    print_table(
        _title(data, result.split, result.split_seeded),
        ["model", "split", "n_images", "n_total", *keys],
        [[label, result.split, str(result.n_images), str(result.n_total), *(f"{result.means[k]:.4f}" for k in keys)]],
    )
    if json_out:
        write_json(json_out, {**result.to_json(), "model": label, "data": data})
        click.echo(f"wrote {json_out}")


def _evaluate_video(data: str, split: str | None, model: str | None, maps_dir: str | None,
                    json_out: str | None, limit: int | None, threads: int, smooth: float | None) -> None:
    """``evaluate`` on a video dataset: per-frame means over frames, plus stability."""
    from edgesal.evaluation import maps_dir_source
    from edgesal.video.evaluation import VIDEO_METRIC_KEYS, evaluate_video, model_source
    from edgesal.video.temporal import load_frame_model

    if model is not None:
        predict, reset = model_source(load_frame_model(model, smooth, threads))
        label = model + (f" (EMA {smooth:g})" if smooth is not None else "")
    else:
        if smooth is not None:
            raise EdgesalError("--smooth needs --model (precomputed --maps are scored as they are)")
        source = maps_dir_source(maps_dir)
        predict, reset, label = (lambda sample: source(sample)[0]), (lambda: None), str(maps_dir)
    result = evaluate_video(data, predict, reset, split=split, limit=limit)
    print_table(f"{data} / {result.split} (video: per-frame means)",
                ["model", "split", "n_videos", "n_frames", *VIDEO_METRIC_KEYS],
                [[label, result.split, str(result.n_videos), str(result.n_frames),
                  *(f"{result.means[k]:.4f}" for k in VIDEO_METRIC_KEYS)]])
    if json_out:
        write_json(json_out, {**result.to_json(), "model": label, "data": data})
        click.echo(f"wrote {json_out}")


COMMANDS = [evaluate]
