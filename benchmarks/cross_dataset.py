"""Cross-dataset protocol: train a recipe without one fixation dataset, score it on that dataset.

Folds (the third dataset is never seen, neither its images nor its fixations):

- ``to_scene``: train on OSIE train + EyeCrowd, validate on OSIE val, test on Scene test;
- ``to_osie``: train on Scene train + EyeCrowd, validate on Scene val, test on OSIE test.

The recipe is a training config (default: the shipped ``default``'s,
``edgesal/models/cards/default.train.toml``); each fold keeps everything but its sources, its
validation split and its output folder ``RUNS/<recipe stem>/<fold>``. EyeCrowd enters as the
recipe has it (stimuli with teacher maps, or the ``eyecrowd`` dataset with its fixations). A
fold that was interrupted resumes from its ``last.pt``; a finished fold (``done.json``) is not
trained again. Each fold's model is then scored on the held-out test split with and without
horizontal-flip averaging (``--tta hflip``), next to the shipped models, which trained on that
dataset's train split (the in-domain line).

    python benchmarks/cross_dataset.py --out runs/cross/default.md      # also writes runs/cross/default.json
    python benchmarks/cross_dataset.py --summarize runs/cross/default.json runs/cross/ensemble.json \
        --out docs/results/cross_dataset.md

``--summarize`` trains nothing: it puts the ``.json`` results of earlier runs (one per recipe,
named after it) in one table with the mean over the two folds, the score the shipped
``default`` is to be chosen by.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from edgesal.atomic import write_json, write_text
from edgesal.evaluation import evaluate, predictor_source
from edgesal.predictors import load_predictor
from edgesal.training.config import TrainConfig
from edgesal.training.trainer import train

#: fold → (fixation-dataset train sources, validation sources, held-out dataset); EyeCrowd is added as the recipe has it
FOLDS: dict[str, tuple[list[str], list[str], str]] = {
    "to_scene": (["osie:train"], ["osie:val"], "scene"),
    "to_osie": (["scene:train"], ["scene:val"], "osie"),
}
KEYS = ("auc_judd", "sauc", "nss", "cc", "kld", "ig")
HEADER = "| model | trained on | tta | AUC-J | sAUC | NSS | CC | KL | IG |\n|---|---|---|---|---|---|---|---|---|"


def fold_sources(recipe: TrainConfig, fold: str) -> list[str]:
    """The fold's training sources: its fixation dataset, plus the recipe's EyeCrowd entry as the recipe has it
    (``images:…eyecrowd…`` stimuli labelled by the teacher, or the ``eyecrowd`` dataset with its fixations)."""
    return FOLDS[fold][0] + [s for s in recipe.train if "eyecrowd" in s.lower()]


def train_fold(recipe: TrainConfig, name: str, fold: str, runs: Path) -> Path:
    """Train (or resume, or skip when done) one fold of the recipe ``name``; the path of its best checkpoint."""
    out = runs / name / fold
    done = out / "done.json"
    if not done.exists():
        cfg = recipe.updated({"train": fold_sources(recipe, fold), "val": FOLDS[fold][1], "out": str(out)})
        result = train(cfg, resume=(out / "last.pt").exists())
        write_json(done, {"steps": result.steps, "best_val": result.best_val, "config": cfg.to_dict()})
    return out / "best.pt"


def scores(model: str, data: str, tta: str, threads: int) -> dict[str, float]:
    predictor = load_predictor(model, tta=tta, data=data, num_threads=threads)
    return evaluate(data, predictor_source(predictor), split="test", progress=False).means


def row(label: str, trained_on: str, tta: str, means: dict[str, float]) -> str:
    return f"| {label} | {trained_on} | {tta} | " + " | ".join(f"{means[k]:.4f}" for k in KEYS) + " |"


def summary(paths: list[Path]) -> str:
    """One Markdown table of earlier runs' results: recipe × tta, per fold and the mean of the folds."""
    lines = ["| recipe | tta | fold | " + " | ".join(("AUC-J", "sAUC", "NSS", "CC", "KL", "IG")) + " |",
             "|---|---|---|" + "---|" * len(KEYS)]
    for path in paths:
        results = json.loads(path.read_text())
        for tta in ("none", "hflip"):
            folds = {fold: results[f"{fold}/{tta}"] for fold in FOLDS if f"{fold}/{tta}" in results}
            if len(folds) != len(FOLDS):
                continue
            for fold, means in folds.items():
                lines.append(f"| {path.stem} | {tta} | {fold} (→ {FOLDS[fold][2]}) | "
                              + " | ".join(f"{means[k]:.4f}" for k in KEYS) + " |")
            mean = {k: sum(m[k] for m in folds.values()) / len(folds) for k in KEYS}
            lines.append(f"| **{path.stem}** | {tta} | **mean of folds** | "
                         + " | ".join(f"**{mean[k]:.4f}**" for k in KEYS) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", type=Path, default=Path("edgesal/models/cards/default.train.toml"))
    parser.add_argument("--runs", type=Path, default=Path("runs/cross"), help="fold checkpoints go here")
    parser.add_argument("--fold", action="append", choices=sorted(FOLDS), help="only these folds [all]")
    parser.add_argument("--shipped", action="append", default=None,
                        help="shipped models to score in-domain on the same splits [default]")
    parser.add_argument("--no-shipped", action="store_true", help="score no shipped model (the recipe's folds only)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown here (and .json beside)")
    parser.add_argument("--summarize", nargs="+", type=Path, default=None, metavar="JSON",
                        help="only tabulate earlier runs' .json results (one per recipe)")
    args = parser.parse_args(argv)
    if args.summarize:
        text = summary(args.summarize)
        print(text)
        if args.out:
            write_text(args.out, text)
        return 0
    torch.set_num_threads(args.threads)
    parts = [f"## Cross-dataset protocol: recipe `{args.recipe}`\n",
             f"Command: `python benchmarks/cross_dataset.py {' '.join(argv if argv is not None else sys.argv[1:])}`\n"]
    results: dict = {}
    recipe = TrainConfig.from_file(args.recipe)
    for fold in args.fold or list(FOLDS):
        sources, held_out = fold_sources(recipe, fold), FOLDS[fold][2]
        checkpoint = train_fold(recipe, args.recipe.stem.removesuffix(".train"), fold, args.runs)
        lines = [f"### {fold}: tested on {held_out} test (never seen in training)\n", HEADER]
        for tta in ("none", "hflip"):
            means = scores(str(checkpoint), held_out, tta, args.threads)
            results[f"{fold}/{tta}"] = means
            lines.append(row(f"recipe, fold {fold}", " + ".join(sources), tta, means))
        for name in [] if args.no_shipped else args.shipped or ["default"]:
            for tta in ("none", "hflip"):
                means = scores(name, held_out, tta, args.threads)
                results[f"{fold}/shipped {name}/{tta}"] = means
                lines.append(row(f"shipped `{name}` (in-domain)", f"includes {held_out} train", tta, means))
        text = "\n".join(lines) + "\n"
        parts.append(text)
        print(text, flush=True)
    if args.out:
        write_text(args.out, "\n".join(parts))
        write_json(args.out.with_suffix(".json"), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
