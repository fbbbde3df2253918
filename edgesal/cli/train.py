"""``edgesal train`` and ``edgesal pseudolabel``."""

from __future__ import annotations

import click

from edgesal.cli.params import IMAGE_SIDE, NON_NEGATIVE_INT, OUTPUT_FOLDER, POSITIVE_FLOAT, POSITIVE_INT


class _CommaList(click.ParamType):
    """``a,b,c`` → a list of non-empty items (integers ≥ 0 when ``levels``)."""

    def __init__(self, levels: bool):
        self.levels = levels
        self.name = "levels" if levels else "names"

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        items = [v.strip() for v in str(value).split(",")]
        if not all(items) or (self.levels and not all(v.isdigit() for v in items)):
            self.fail(f"{value!r} is not a comma-separated list of "
                      f"{'levels (integers ≥ 0)' if self.levels else 'names'}", param, ctx)
        return [int(v) for v in items] if self.levels else items


NAME_LIST = _CommaList(levels=False)
LEVEL_LIST = _CommaList(levels=True)


@click.command(epilog="""\b
Examples:
  edgesal train --config edgesal/models/cards/default.train.toml
  edgesal train --model fastsal_a_mnv2_readout --data osie:train --val osie:val --epochs 10 --batch 16
  edgesal train --init runs/prune/pruned.pt --data osie:train --val osie:val --max-steps 500
  edgesal train --model fastsal_a_mnv2_readout --distill stats --distill-teacher default --distill-weight 0.1
  edgesal train --model fastsal_a_mnv2 --hint-teacher teacher.onnx --hint-tensors feat8,feat16 --hint-steps 500
  (recipes for every distillation method: docs/training.md)""")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="TOML or JSON file with TrainConfig fields")
@click.option("--model", help="architecture name (edgesal info --list shows them)")
@click.option("--data", "train", multiple=True, help="training source NAME[:SPLIT] or images:DIR (repeatable)")
@click.option("--val", multiple=True, help="validation source NAME[:SPLIT] (repeatable)")
@click.option("--teacher-cache",
              help="folder of teacher maps from `edgesal pseudolabel`; A+B averages several (an ensemble teacher)")
@click.option("--loss", help="theis, fixation_nll, density_cross_entropy, fastsal_bce, fastsal_kl_cc_bce, "
              "fastsal_eq3_paper")
@click.option("--imgsz", "input_hw", nargs=2, type=IMAGE_SIDE, help="input height width")
@click.option("--epochs", type=POSITIVE_INT, help="passes over the training images (default 10)")
@click.option("--batch", type=POSITIVE_INT, help="images per step (default 16)")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]))
@click.option("--lr", type=POSITIVE_FLOAT, help="peak learning rate (default 1e-3)")
@click.option("--schedule", type=click.Choice(["cosine", "step", "constant"]))
@click.option("--val-every", type=POSITIVE_INT, help="validate every N steps")
@click.option("--patience", type=POSITIVE_INT, help="early stop after N validations without improvement")
@click.option("--early-stop-from", type=click.FloatRange(0, 1, max_open=True),
              help="stop early only on a patience window after this fraction of the planned steps (default 0)")
@click.option("--seed", type=NON_NEGATIVE_INT, help="random seed (default 0)")
@click.option("--max-steps", type=POSITIVE_INT, help="stop after N steps")
@click.option("--threads", type=POSITIVE_INT, help="torch CPU threads")
@click.option("--out", type=OUTPUT_FOLDER, help="run folder (best.pt, last.pt)")
@click.option("--cache-dir", type=OUTPUT_FOLDER, help="where preprocessed training arrays are cached")
@click.option("--init", help="start from this checkpoint (e.g. a pruned .pt) instead of a fresh architecture")
@click.option("--hint-teacher", help="teacher for hint pretraining of the backbone: shipped name, .pt, "
              "or .onnx/.tflite with --hint-tensors")
@click.option("--hint-tensors", type=NAME_LIST, help="comma-separated intermediate tensors of an exported hint teacher")
@click.option("--hint-steps", type=NON_NEGATIVE_INT, help="hint pretraining steps before training")
@click.option("--distill", type=click.Choice(["stats", "hint"]),
              help="feature distillation term added to the loss: stats (Zhang et al.) or hint (FitNets)")
@click.option("--distill-teacher", help="edgesal teacher of --distill: shipped name, architecture or .pt")
@click.option("--distill-weight", type=POSITIVE_FLOAT, help="weight of the --distill term (default 1)")
@click.option("--feature-layers", type=LEVEL_LIST,
              help="student backbone levels paired with teacher features, e.g. 1,2,3 (0 = stride 4)")
@click.option("--no-pretrained", is_flag=True, help="random backbone initialisation")
@click.option("--resume", is_flag=True, help="continue from OUT/last.pt")
def train(config_file, resume, no_pretrained, **flags) -> None:
    """Train a student on fixations (and a teacher's cached maps)."""
    from edgesal.training.config import TrainConfig
    from edgesal.training.trainer import train as run_training

    cfg = TrainConfig.from_file(config_file) if config_file else TrainConfig()
    flags = {k: (list(v) if isinstance(v, tuple) and k in ("train", "val") else v) for k, v in flags.items()}
    flags = {k: v for k, v in flags.items() if v not in (None, [], ())}
    if no_pretrained:
        flags["pretrained_backbone"] = False
    cfg = cfg.updated(flags)
    result = run_training(cfg, resume=resume)
    click.echo(f"best validation loss {result.best_val:.4f} after {result.steps} steps"
               f"{' (early stop)' if result.stopped_early else ''}; best checkpoint: {result.best_path}")


@click.command(epilog="""\b
Examples:
  edgesal pseudolabel osie:train images:my_photos/ --teacher attention-center --out runs/teacher""")
@click.argument("sources", nargs=-1, required=True)
@click.option("--teacher", default="attention-center", show_default=True,
              help="predictor name/path; a+b averages an ensemble")
@click.option("--out", "cache", required=True, type=OUTPUT_FOLDER, help="cache folder")
@click.option("--size", nargs=2, type=IMAGE_SIDE, default=(192, 256), show_default=True, help="stored map height width")
@click.option("--threads", default=2, show_default=True, type=POSITIVE_INT, help="teacher inference threads")
def pseudolabel(sources, teacher, cache, size, threads) -> None:
    """Precompute teacher maps for SOURCES (NAME[:SPLIT] or images:DIR); resumable."""
    from edgesal.training.pseudolabel import pseudolabel as run

    result = run(list(sources), teacher, cache, tuple(size), num_threads=threads)
    for path, reason in result.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    click.echo(f"{result.images} images: {result.computed} computed, {result.cached} already cached, "
               f"{len(result.skipped)} skipped → {cache}")
    result.raise_for_skipped()


@click.command("calibrate-density", epilog="""\b
Examples:
  edgesal calibrate-density --model runs/train/best.pt --val osie:val""")
@click.option("--model", "checkpoint", required=True, type=click.Path(exists=True, dir_okay=False),
              help="log-density .pt checkpoint (rewritten)")
@click.option("--val", multiple=True, default=("osie:val",), show_default=True, help="validation source(s)")
@click.option("--cache-dir", default="runs/cache", show_default=True, type=OUTPUT_FOLDER)
def calibrate_density(checkpoint, val, cache_dir) -> None:
    """Fit the readout's sharpness (inverse temperature) to maximise validation log-likelihood."""
    from edgesal.errors import EdgesalError
    from edgesal.models.checkpoint import read_checkpoint
    from edgesal.models.registry import ModelSpec
    from edgesal.training.arrays import load_training_arrays
    from edgesal.training.trainer import calibrate_checkpoint

    spec = ModelSpec.from_dict(read_checkpoint(checkpoint)["spec"])
    if spec.output_kind != "log_density":
        raise EdgesalError(f"{checkpoint} is a {spec.output_kind} model; only log-density models are calibrated")
    arrays = load_training_arrays(list(val), spec.input_hw, cache_dir)
    r = calibrate_checkpoint(checkpoint, arrays)
    click.echo(f"sharpness {r['sharpness']:.3f}: validation LL {r['val_ll_before']:.4f} → "
               f"{r['val_ll_after']:.4f} bits/fix")


COMMANDS = [train, pseudolabel, calibrate_density]
