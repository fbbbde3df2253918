"""Ablation: architecture × distillation method, each cell trained until its validation loss stops falling.

Every cell is ``edgesal train`` on the base recipe (``benchmarks/recipes/ablation.toml``) with
the architecture's and the method's options laid over it, then scored on OSIE test and Scene
test (both datasets' train splits are in training; EyeCrowd joins wherever a teacher is used,
as in the shipped recipe). Methods:

- ``fixations``: no teacher; the fixation NLL (readout heads) or BCE to the ground-truth
  density (sigmoid heads);
- ``kd``: pseudo-label distillation from the attention-center maps (``theis`` for readout
  heads, FastSal eq. 2 ``fastsal_bce`` for sigmoid heads);
- ``kd+hint``: ``kd`` after hint pretraining on the backbone features of the MobileNetV2 student
  shipped as ``default`` until commit 976b721 (``FEATURE_TEACHER``; every cell uses that one teacher:
  ``git show 976b721:edgesal/models/weights/default.pt > runs/default_mnv2.pt``);
- ``kd+stats``: ``kd`` plus Zhang et al.'s first/second-order feature statistics of the same teacher
  (weight 0.1, backbone levels 1–3, as docs/training.md recommends);
- ``teacher``: the teacher's maps alone (readout: cross-entropy; sigmoid: FastSal eq. 3 as written).

A cell that was interrupted resumes from its ``last.pt``; a finished cell (``done.json``) is not
trained again, so the grid can be filled over several sessions; ``--summarize`` only tabulates.
Convergence is read off each run's validation history against its planned schedule: the
best validation loss fell by less than 1 % over the last third of the planned steps, and the run
is not stalled (best at its first validation). A run stops early only when its whole patience
window lies in that last third (``early_stop_from`` in the recipe): at patience 4 a long cosine
schedule's still-high learning rate stopped distilled runs on validation noise after 150 of 1328
steps, and a stop before the last third says nothing about convergence (such a run counts as not
converged). The random-init
row waits longer before stopping (``patience`` 12): from scratch the validation loss stays flat
for the first hundred steps.

A cell that is not converged at the recipe's epochs is trained again from scratch with the
schedule doubled (``--until-converged MAX``: 16, 32, … epochs up to MAX; a run of N epochs lives
under ``<runs>_<N>ep``). Doubling also settles convergence: when the doubled run lowers the best
validation loss by less than 1 %, more training no longer helps (under a cosine schedule the
last third keeps gaining from the falling learning rate alone, whatever the length). The table
shows each cell's first converged run (of a pair settled by doubling, the lower validation
loss), else its longest run that saw its last third.

    python benchmarks/ablation.py --threads 2 --until-converged 32 --out docs/results/ablation.md
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import torch

from edgesal.atomic import write_json, write_text
from edgesal.evaluation import evaluate, predictor_source
from edgesal.model_info import model_info
from edgesal.models.registry import get_spec
from edgesal.predictors import load_predictor
from edgesal.training.config import TrainConfig
from edgesal.training.trainer import train

RECIPE = Path(__file__).parent / "recipes" / "ablation.toml"
EYECROWD = "images:../shared/data/eyecrowd_512/stimuli"
TEACHER_CACHE = "runs/teacher_ac"
#: the former MobileNetV2 `default`: the teacher of every kd+hint / kd+stats cell, before and after it was replaced
FEATURE_TEACHER = "runs/default_mnv2.pt"
HINT_STEPS = 150
#: Zhang et al.'s term: weight and backbone levels of docs/training.md's recipe (the Gram part dominates at 1.0)
STATS_WEIGHT = 0.1
STATS_LEVELS = [1, 2, 3]
#: row label → training options of the architecture
ARCHITECTURES: dict[str, dict] = {
    "FastSal A + readout (former default)": {"model": "fastsal_a_mnv2_readout"},
    "FastSal C + readout": {"model": "fastsal_c_mnv2_readout"},
    "FastSal A, sigmoid": {"model": "fastsal_a_mnv2"},
    "FastSal C, sigmoid": {"model": "fastsal_c_mnv2"},
    "DeepGaze-style + readout": {"model": "deepgaze_mnv2_readout"},
    "FastSal A + readout, EfficientNet-Lite0": {"model": "fastsal_a_effl0_readout"},
    "FastSal A + readout, random init": {"model": "fastsal_a_mnv2_readout", "pretrained_backbone": False,
                                         "patience": 12},
    "UVA-Net tiny + readout (64×64)": {"model": "uva_tiny_readout", "input_hw": [64, 64]},
}
METHODS = ("fixations", "kd", "kd+hint", "kd+stats", "teacher")
KEYS = ("auc_judd", "sauc", "nss", "cc", "kld", "ig")
TEST_SETS = ("osie", "scene")


@functools.cache
def base_recipe() -> TrainConfig:
    """The ablation's base recipe, read once (every cell and every row's cost start from it)."""
    return TrainConfig.from_file(RECIPE)


def method_options(method: str, log_density: bool) -> dict:
    """The training options a distillation method adds for a readout (log-density) or sigmoid head."""
    task_loss = "theis" if log_density else "fastsal_bce"  # without a teacher: its ground-truth terms only
    kd = {"train": ["osie:train", "scene:train", EYECROWD], "teacher_cache": TEACHER_CACHE, "loss": task_loss}
    return {
        "fixations": {"loss": task_loss},
        "kd": kd,
        "kd+hint": {**kd, "hint_teacher": FEATURE_TEACHER, "hint_steps": HINT_STEPS},
        "kd+stats": {**kd, "distill": "stats", "distill_teacher": FEATURE_TEACHER, "distill_weight": STATS_WEIGHT,
                     "feature_layers": STATS_LEVELS},
        "teacher": {**kd, "loss": "density_cross_entropy" if log_density else "fastsal_eq3_paper"},
    }[method]


def schedule_root(runs: Path, epochs: int | None) -> Path:
    """Where runs of ``epochs`` live: ``runs`` at the recipe's epochs, ``<runs>_<N>ep`` beside it otherwise."""
    return runs if epochs in (None, base_recipe().epochs) else runs.with_name(f"{runs.name}_{epochs}ep")


def schedules(max_epochs: int) -> list[int]:
    """The recipe's epochs, then doubled while ≤ ``max_epochs``: the runs a cell gets until it converges."""
    epochs = [base_recipe().epochs]
    while epochs[-1] * 2 <= max_epochs:
        epochs.append(epochs[-1] * 2)
    return epochs


def cell_config(arch: str, method: str, runs: Path, epochs: int | None = None) -> TrainConfig:
    """The base recipe with the row's and the column's options, writing to ``<root>/<model>[_scratch]/<method>``."""
    options = ARCHITECTURES[arch]
    folder = options["model"] + ("_scratch" if options.get("pretrained_backbone") is False else "")
    out = schedule_root(runs, epochs) / folder / method
    log_density = get_spec(options["model"]).output_kind == "log_density"
    values = {**options, **method_options(method, log_density), "out": str(out), "epochs": epochs}
    return base_recipe().updated(values)


#: the part of the planned schedule a converged run's best validation loss barely moves in
LAST_PART = 1 / 3
#: "barely": the relative fall of the best validation loss over that part
CONVERGED_GAIN = 0.01


def saw_the_last_third(steps: int, planned_steps: int, stopped_early: bool, patience_steps: int) -> bool:
    """True when a run ran to the end, or the validations without improvement that stopped it lie in its last third."""
    return steps - (patience_steps if stopped_early else 0) >= planned_steps * (1 - LAST_PART)


def convergence(history: list[dict], planned_steps: int, steps: int, stopped_early: bool,
                patience_steps: int = 0) -> dict:
    """Best step, and the relative fall of the best validation loss over the last third of the planned schedule.

    A run converges only if it saw that last third: it ran to the end, or the ``patience_steps`` without
    improvement that stopped it all lie inside it (an earlier stop, or an interruption, is not convergence).
    """
    vals = [(h["step"], h["val_loss"]) for h in history if h.get("val_loss") is not None]
    best_step, best = min(vals, key=lambda sv: sv[1])
    cut = planned_steps * (1 - LAST_PART)
    before = [v for s, v in vals if s <= cut]
    gain = (min(before) - best) / abs(min(before)) if before else float("nan")
    stalled = len(vals) > 1 and best_step == vals[0][0]  # never improved on its first validation
    saw_last_third = saw_the_last_third(steps, planned_steps, stopped_early, patience_steps)
    return {"steps": steps, "planned_steps": planned_steps, "best_step": best_step, "best_val_loss": best,
            "stopped_early": stopped_early, "last_third_gain": gain,
            "converged": not stalled and saw_last_third and gain < CONVERGED_GAIN,
            "history": history}


def finished_record(arch: str, method: str, out: Path) -> dict | None:
    """A finished cell's record under the row's current label (cells are found by folder, not by label), or None."""
    done = out / "done.json"
    return {**json.loads(done.read_text()), "arch": arch, "method": method} if done.exists() else None


#: the longest schedule a finished run is looked for (the recipe's epochs doubled up to this)
LONGEST_SCHEDULE = 256


def val_loss_change(shorter: dict, longer: dict) -> float:
    """The relative change of the best validation loss from a run to its doubled run (negative: it fell)."""
    return (longer["best_val_loss"] - shorter["best_val_loss"]) / abs(shorter["best_val_loss"])


def confirmed_by_doubling(shorter: dict, longer: dict) -> bool:
    """True when the run with the schedule doubled lowers the best validation loss by less than 1 %:
    more training no longer helps, so both runs count as converged (older records lack the loss: False)."""
    if "best_val_loss" not in shorter or "best_val_loss" not in longer:
        return False
    return -val_loss_change(shorter, longer) < CONVERGED_GAIN


def chosen_record(arch: str, method: str, runs: Path) -> dict | None:
    """A cell's first converged run over the doubling schedules, else its longest finished one, else None.

    A run converges on its own (:func:`convergence`) or when its doubled run confirms it; then the table
    shows the one of the two with the lower best validation loss, marked with ``doubling``. Of unconverged
    runs, the longest that saw its last third wins over a longer one stopped before it.
    """
    found = [r for epochs in schedules(LONGEST_SCHEDULE)
             if (r := finished_record(arch, method, Path(cell_config(arch, method, runs, epochs).out))) is not None]
    for shorter, longer in zip(found, found[1:] + [None]):
        if shorter["converged"]:
            return shorter
        if longer is not None and confirmed_by_doubling(shorter, longer):
            better = min(shorter, longer, key=lambda r: r["best_val_loss"])
            return {**better, "converged": True,
                    "doubling": {"epochs": longer["config"]["epochs"],
                                 "val_loss_change": val_loss_change(shorter, longer)}}
    whole = [r for r in found if saw_the_last_third(r["steps"], r["planned_steps"], r["stopped_early"],
                                                     r["config"]["patience"] * r["config"]["val_every"])]
    return (whole or found or [None])[-1]


def finished_cells(runs: Path, epochs: int | None = None) -> list[dict]:
    """Every finished cell under ``runs`` in table order: its chosen run, or only runs of ``epochs`` when given."""
    found = (chosen_record(arch, method, runs) if epochs is None
             else finished_record(arch, method, Path(cell_config(arch, method, runs, epochs).out))
             for arch in ARCHITECTURES for method in METHODS)
    return [r for r in found if r is not None]


def run_cell(arch: str, method: str, runs: Path, threads: int, epochs: int | None = None) -> dict:
    """Train (or resume, or reuse) one cell and score it on both test sets."""
    cfg = cell_config(arch, method, runs, epochs).updated({"threads": threads})
    out = Path(cfg.out)
    if (record := finished_record(arch, method, out)) is not None:
        return record
    result = train(cfg, resume=(out / "last.pt").exists())
    record = {"arch": arch, "method": method, "config": cfg.to_dict(),
              **convergence(result.history, result.planned_steps, result.steps, result.stopped_early,
                            cfg.patience * cfg.val_every)}
    for data in TEST_SETS:
        predictor = load_predictor(str(out / "best.pt"), data=data, num_threads=threads)
        record[data] = evaluate(data, predictor_source(predictor), split="test", progress=False).means
    write_json(out / "done.json", record)
    return record


def adopt(published: Path, runs: Path) -> int:
    """Mark the cells recorded in a published ablation JSON as finished under ``runs``; returns how many were new.

    Each record goes to the folder its own row, column and epochs give under ``runs`` (never to a path
    the file names); a cell that already has a ``done.json`` keeps it.
    """
    adopted = 0
    for record in json.loads(published.read_text()):
        if record.get("arch") not in ARCHITECTURES or record.get("method") not in METHODS:
            print(f"skipped a record of an unknown cell: {record.get('arch')} / {record.get('method')}",
                  file=sys.stderr)
            continue
        epochs = record.get("config", {}).get("epochs")
        done = Path(cell_config(record["arch"], record["method"], runs, epochs).out) / "done.json"
        if not done.exists():
            write_json(done, record)
            adopted += 1
    return adopted


def converge_cell(arch: str, method: str, runs: Path, threads: int, max_epochs: int) -> dict:
    """Train a cell at the recipe's epochs, then from scratch with the schedule doubled until a run converges
    or doubling confirms the one before; returns the cell's chosen record."""
    previous = None
    for epochs in schedules(max_epochs):
        record = run_cell(arch, method, runs, threads, epochs)
        if record["converged"] or (previous is not None and confirmed_by_doubling(previous, record)):
            break
        previous = record
    return chosen_record(arch, method, runs)


def cost(arch: str) -> str:
    """``params (M) | GFLOPs`` of the architecture at the ablation's input size for it."""
    options = ARCHITECTURES[arch]
    hw = tuple(options.get("input_hw") or base_recipe().input_hw)
    facts = model_info(options["model"], input_hw=hw)
    return f"{facts['params'] / 1e6:.2f} | {facts['gflops']:.3f} at {hw[0]}×{hw[1]}"


def notes(record: dict) -> str:
    """A grid cell's remarks: its schedule when longer than the recipe's, and ``not converged``."""
    epochs = record["config"]["epochs"] if "config" in record else None
    remarks = ([f"{epochs} ep"] if epochs not in (None, base_recipe().epochs) else []) \
        + ([] if record["converged"] else ["not converged"]) \
        + ([f"converged: {record['doubling']['epochs']} ep change the best val loss by "
            f"{100 * record['doubling']['val_loss_change']:+.1f} %"] if "doubling" in record else [])
    return f" ({', '.join(remarks)})" if remarks else ""


def tables(records: list[dict]) -> str:
    """The AUC-J grid (OSIE / Scene test) with each row's cost, then every metric and the convergence facts."""
    by_cell = {(r["arch"], r["method"]): r for r in records}
    grid = ["| architecture | params (M) | GFLOPs | " + " | ".join(METHODS) + " |",
            "|---|---|---|" + "---|" * len(METHODS)]
    for arch in ARCHITECTURES:
        cells = []
        for method in METHODS:
            r = by_cell.get((arch, method))
            cells.append("—" if r is None else f"{r['osie']['auc_judd']:.3f} / {r['scene']['auc_judd']:.3f}"
                         + notes(r))
        grid.append(f"| {arch} | {cost(arch)} | " + " | ".join(cells) + " |")
    detail = ["| architecture | method | test | AUC-J | sAUC | NSS | CC | KL | IG | epochs | steps of planned | "
              "best step | stopped early | best-val gain, last third |", "|---|---|---|" + "---|" * 11]
    for (arch, method), r in by_cell.items():
        for data in TEST_SETS:
            m = r[data]
            detail.append(f"| {arch} | {method} | {data} | " + " | ".join(f"{m[k]:.4f}" for k in KEYS)
                          + f" | {r.get('config', {}).get('epochs') or base_recipe().epochs}"
                          f" | {r['steps']} of {r['planned_steps']}"
                          f" | {r['best_step']} | {'yes' if r['stopped_early'] else 'no'} | "
                          f"{100 * r['last_third_gain']:.2f} % |")
    return ("AUC-J on OSIE test / Scene test (— : not trained yet; `N ep`: trained again with the schedule doubled "
            f"from the recipe's {base_recipe().epochs} epochs until converged)\n\n" + "\n".join(grid)
            + "\n\nEvery metric and the convergence facts\n\n" + "\n".join(detail) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=Path("runs/ablation"), help="cell checkpoints go here")
    parser.add_argument("--arch", action="append", choices=list(ARCHITECTURES), help="only these rows [all]")
    parser.add_argument("--method", action="append", choices=METHODS, help="only these columns [all]")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=None,
                        help="train (or tabulate) the cells with this many epochs instead (under <runs>_<N>ep)")
    parser.add_argument("--until-converged", type=int, default=None, metavar="MAX_EPOCHS",
                        help="retrain an unconverged cell from scratch with the epochs doubled, up to MAX_EPOCHS")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown here (and .json beside)")
    parser.add_argument("--summarize", action="store_true", help="only tabulate the finished cells under --runs")
    parser.add_argument("--adopt", type=Path, default=None, metavar="JSON",
                        help="first take over the cells a published ablation JSON records (not retrained)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.epochs is not None and args.until_converged is not None:
        parser.error("--epochs and --until-converged exclude each other")
    if args.adopt is not None:
        print(f"adopted {adopt(args.adopt, args.runs)} finished cells from {args.adopt}", flush=True)
    if not args.summarize:
        for arch in args.arch or list(ARCHITECTURES):
            for method in args.method or list(METHODS):
                record = (run_cell(arch, method, args.runs, args.threads, args.epochs) if args.until_converged is None
                          else converge_cell(arch, method, args.runs, args.threads, args.until_converged))
                print(f"{arch} / {method}{notes(record)}: AUC-J OSIE {record['osie']['auc_judd']:.4f}, "
                      f"Scene {record['scene']['auc_judd']:.4f}", flush=True)
    records = finished_cells(args.runs, args.epochs)  # the whole grid, whichever cells this run trained
    text = (f"Command: `python benchmarks/ablation.py {' '.join(argv if argv is not None else sys.argv[1:])}` "
            f"(cells under `{args.runs}`; base recipe `{RECIPE.relative_to(RECIPE.parents[2])}`)\n\n"
            + tables(records))
    print(text)
    if args.out:
        write_text(args.out, text)
        write_json(args.out.with_suffix(".json"), records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
