"""``edgesal prune`` and ``edgesal prune-sweep``: Fisher pruning with FLOP regularisation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import click

from edgesal.cli.params import (
    FRACTION_BELOW_ONE,
    NON_NEGATIVE_FLOAT,
    NON_NEGATIVE_INT,
    OUTPUT_FOLDER,
    POSITIVE_FLOAT,
    POSITIVE_INT,
)
from edgesal.errors import EdgesalError


class _CriterionNames(Sequence[str]):
    """The names in ``edgesal.pruning.criteria.CRITERIA``, read on first use (keeps torch out of start-up)."""

    def _names(self) -> list[str]:
        from edgesal.pruning.criteria import CRITERIA

        return list(CRITERIA)

    def __getitem__(self, index):
        return self._names()[index]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


METHODS: Sequence[str] = _CriterionNames()


def _csv(text: str, cast=str) -> list:
    try:
        return [cast(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError:
        raise EdgesalError(f"cannot read the list {text!r}") from None


def _common(f):
    options = [
        click.option("--model", required=True, help="checkpoint .pt, shipped name or architecture name"),
        click.option("--data", "data", multiple=True, required=True,
                     help="training source NAME[:SPLIT], <dir>:SPLIT or images:DIR (repeatable)"),
        click.option("--signal-steps", default=10, show_default=True, type=POSITIVE_INT,
                     help="training steps accumulating the pruning signal per removed map"),
        click.option("--maps-per-step", default=1, show_default=True, type=POSITIVE_INT,
                     help="maps removed per signal round (paper: 1; costs re-estimated after each)"),
        click.option("--min-keep", default=0.0, show_default=True, type=FRACTION_BELOW_ONE,
                     help="keep at least this fraction of every layer's feature maps"),
        click.option("--channel-multiple", default=1, show_default=True, type=click.IntRange(min=1),
                     help="layers keep a multiple of M maps (maps removed in blocks): 16 for onnxruntime "
                          "on AVX-512, 8 on AVX2/ARM; 1 = the paper"),
        click.option("--finetune-steps", default=0, show_default=True, type=NON_NEGATIVE_INT,
                     help="SGD steps after pruning"),
        click.option("--batch", default=16, show_default=True, type=POSITIVE_INT, help="images per step"),
        click.option("--lr", default=0.0025, show_default=True, type=POSITIVE_FLOAT, help="SGD learning rate"),
        click.option("--momentum", default=0.9, show_default=True, type=FRACTION_BELOW_ONE),
        click.option("--weight-decay", default=0.0, show_default=True, type=NON_NEGATIVE_FLOAT),
        click.option("--seed", default=0, show_default=True, type=NON_NEGATIVE_INT),
        click.option("--teacher-cache", default=None, help="folder of teacher maps (distillation loss)"),
        click.option("--loss", default=None, help="training loss (default theis / fastsal_bce)"),
        click.option("--signal-loss", default=None,
                     help="per-image loss of the signal (default fixation_nll for log-density models)"),
        click.option("--bn", type=click.Choice(["eval", "train"]), default="eval", show_default=True,
                     help="BatchNorm statistics while pruning: frozen (exact per-image signal) or batch"),
        click.option("--no-hflip", is_flag=True, help="no horizontal-flip augmentation"),
        click.option("--cache-dir", default="runs/cache", show_default=True, type=OUTPUT_FOLDER),
        click.option("--threads", default=None, type=POSITIVE_INT, help="torch CPU threads"),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


@click.command(epilog="""\b
Examples:
  edgesal prune --model default --data osie:train --val osie:val --flops 30% --channel-multiple 16 \\
      --maps-per-step 50 --finetune-steps 500 --out runs/prune""")
@_common
@click.option("--val", multiple=True, help="validation source (loss before/after, repeatable)")
@click.option("--method", type=click.Choice(METHODS), default="fisher", show_default=True)
@click.option("--beta", type=NON_NEGATIVE_FLOAT, default=None, help="fixed FLOP trade-off β (cost normalised by the "
              "starting model's FLOPs; default 0)")
@click.option("--beta-star", is_flag=True, help="hyperparameter-free β*: least loss per saved FLOP")
@click.option("--prune", "n_prune", type=POSITIVE_INT, default=None, help="remove N feature maps")
@click.option("--flops", "flop_target", default=None,
              help="FLOP target: 0.5 or 50% of the starting model, or absolute 0.3G / 250M")
@click.option("--snapshots", default="",
              help="also save snapshots at these prune counts and/or FLOP levels, e.g. 500,1000,50%")
@click.option("--save-every", default=1, show_default=True, type=POSITIVE_INT, help="pruning steps between state saves")
@click.option("--no-retrain", is_flag=True, help="no SGD updates while pruning")
@click.option("--out", default="runs/prune", show_default=True, type=OUTPUT_FOLDER,
              help="run folder (state.pt, pruned.pt)")
@click.option("--resume", is_flag=True, help="continue OUT/state.pt")
def prune(model, data, val, method, beta, beta_star, n_prune, flop_target, snapshots, save_every, no_retrain,
          out, resume, no_hflip, **options) -> None:
    """Greedy Fisher pruning (Theis et al. 2018) that physically shrinks a model."""
    from edgesal.pruning.prune import prune_model

    if beta is not None and beta_star:
        raise EdgesalError("give --beta or --beta-star, not both")
    if n_prune is None and flop_target is None:
        raise EdgesalError("give a stop rule: --prune N and/or --flops F")
    result = prune_model(model, list(data), val=list(val), method=method, beta=beta or 0.0, beta_star=beta_star,
                         n_prune=n_prune, flop_target=flop_target, snapshots=_csv(snapshots),
                         save_every=save_every, retrain=not no_retrain, out=out, resume=resume,
                         hflip=not no_hflip, **options)
    p = result.meta["pruning"]
    click.echo(f"removed {result.pruned_maps} feature maps: {p['gflops_before']:.4f} → {p['gflops_after']:.4f} "
               f"GFLOPs ({p['flops_after'] / max(p['flops_before'], 1):.1%}); saved {result.path}")
    if p.get("val_loss_after") is not None:
        click.echo(f"validation loss {p['val_loss_before']:.4f} → {p['val_loss_after']:.4f}")


@click.command("prune-sweep", epilog="""\b
Examples:
  edgesal prune-sweep --model default --data osie:train --eval osie:val --methods fisher,l1a \\
      --prune 90%,70%,50% --no-retrain""")
@_common
@click.option("--methods", default="fisher,l1a,l1w,taylor", show_default=True, help="comma list")
@click.option("--betas", default="0", show_default=True,
              help="comma list of β values ('star' = β*) for every method; METHOD:β only for that method, "
                   "e.g. star,0,fisher:0.003")
@click.option("--prune", "counts", required=True,
              help="comma list of prune counts and/or FLOP levels, e.g. 10,20,50 or 80%,60%,40%")
@click.option("--no-retrain", is_flag=True, help="no SGD while pruning and no fine-tuning")
@click.option("--eval", "eval_data", default=None,
              help="evaluation data NAME[:SPLIT] (default: the first --data dataset, split val)")
@click.option("--limit", default=50, show_default=True, type=POSITIVE_INT, help="evaluate the first N images")
@click.option("--metric", type=click.Choice(["auc_judd", "nss", "cc", "ll"]), default="auc_judd",
              show_default=True, help="accuracy axis of the Pareto front")
@click.option("--no-latency", is_flag=True, help="skip the ONNX Runtime latency measurement")
@click.option("--out", default="runs/prune_sweep", show_default=True, type=OUTPUT_FOLDER)
def prune_sweep(model, data, methods, betas, counts, no_retrain, eval_data, limit, metric, no_latency, out,
                finetune_steps, no_hflip, **options) -> None:
    """Pareto table (FLOPs, params, latency, AUC-J, NSS, LL) over methods × β × prune counts."""
    from edgesal.cli.tables import print_table
    from edgesal.pruning.sweep import TABLE_KEYS, format_cell
    from edgesal.pruning.sweep import prune_sweep as run

    method_list = _csv(methods)
    bad = [m for m in method_list if m not in METHODS]
    if bad:
        raise EdgesalError(f"unknown method(s) {', '.join(bad)}; choose from {', '.join(METHODS)}")
    rows = run(model, list(data), methods=method_list, betas=betas_per_method(method_list, betas),
               prune_counts=_csv(counts), out=out, retrain=not no_retrain, finetune_steps=finetune_steps,
               eval_data=eval_data, limit=limit, latency=not no_latency, metric=metric, hflip=not no_hflip, **options)
    keys = list(TABLE_KEYS) + ["pareto"]
    table = [[format_cell(r.get(k)) for k in keys] for r in sorted(rows, key=lambda r: r["flops"])]
    print_table(f"prune sweep ({metric})", keys, table)
    click.echo(f"wrote {out}/sweep.json, sweep.md, sweep.png")


def betas_per_method(methods: list[str], text: str) -> dict[str, list]:
    """``"star,0,fisher:0.003"`` → {method: [β …]}: plain entries go to every method."""
    per: dict[str, list] = {m: [] for m in methods}
    for token in _csv(text):
        method, _, value = token.rpartition(":")
        if method and method not in per:
            raise EdgesalError(f"--betas {token!r}: {method!r} is not one of --methods {','.join(methods)}")
        try:
            beta = "star" if value == "star" else float(value)
        except ValueError:
            raise EdgesalError(f"--betas {token!r}: β must be a number or 'star'") from None
        for m in [method] if method else methods:
            if beta not in per[m]:
                per[m].append(beta)
    return per


COMMANDS = [prune, prune_sweep]
