"""Crop benchmark: fraction of human fixations inside each aspect's crop, per method and model.

For OSIE test and Scene test, and per aspect (1:1, 4:5, 9:16, 16:9): the ``center`` and
``point`` baselines (point on the default model's map), the ``saliency`` crop on the maps of
``default``, ``fast``, ``glimpse`` and ``attention-center`` (and ``default`` with
horizontal-flip averaging, ``--tta hflip``), the plain max-mass objective on
``default`` (sharpen 1, no centre prior) and the *oracle*: the same search on the
ground-truth density. A fixation is inside when its pixel is (x in [x0 − ½, x0 + w − ½)).
The number is the mean over images of each image's fraction. Latency: the search alone and
map + search, median per image, 1 thread.

*Human consistency* (always printed; no model): the observers of each image are split in two
halves (alternate observers); the crop searched on one half's density is scored on the other
half's fixations, next to ``center`` and the same-half oracle scored on that same half, both
ways round. Where the oracle's own fixations are few (Scene), the oracle is optimistic: the
other half of the humans, a map no model can beat on average, closes only part of its gap.

``--tune`` first scores the objective settings (sharpen γ × centre weight β) of the default
model on the *validation* splits (osie:val, scene:val) and prints the best; the test
numbers always use the library's settings (``edgesal.cropping.search``), set from that.

    python benchmarks/crop.py --tune --out docs/results/crop.md
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable

import numpy as np
import torch

from edgesal.cropping import best_crop
from edgesal.cropping.search import CENTER_WEIGHT, SHARPEN, Crop
from edgesal.data import open_dataset
from edgesal.data.density import density_from_fixations
from edgesal.predictors import load_predictor
from edgesal.predictors.flip import with_tta

SECTION = "## Crop benchmark"
ASPECTS = ("1:1", "4:5", "9:16", "16:9")
GOAL_ASPECTS = ("4:5", "9:16")
MODELS = ("default", "fast", "glimpse", "attention-center")
SETS = ("osie", "scene")
SHARPEN_GRID = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
CENTER_GRID = (0.0, 0.1, 0.2, 0.35, 0.5)
PLAIN = {"sharpen": 1.0, "center_weight": 0.0}
#: a setting replaces the plain max-mass objective only if it beats it on val by more than this
MIN_GAIN = 0.005

Method = Callable[[dict[str, np.ndarray], str], Crop]
METHODS: dict[str, Method] = {
    "center": lambda maps, a: best_crop(maps["default"], a, method="center"),
    "point (default map)": lambda maps, a: best_crop(maps["default"], a, method="point"),
    **{f"saliency: {m}": (lambda maps, a, m=m: best_crop(maps[m], a)) for m in MODELS},
    "saliency: default, --tta hflip": lambda maps, a: best_crop(maps["default+hflip"], a),
    "saliency: default, plain max-mass": lambda maps, a: best_crop(maps["default"], a, **PLAIN),
    "oracle (ground-truth density)": lambda maps, a: best_crop(maps["truth"], a, **PLAIN),
}


def fixations_inside(crop: Crop, fixations: np.ndarray) -> float:
    """Fraction of fixations (x, y in pixels, pixel centres at integers) whose pixel is in the crop."""
    x, y = fixations[:, 0], fixations[:, 1]
    inside = ((x >= crop.x - 0.5) & (x < crop.x + crop.w - 0.5) & (y >= crop.y - 0.5) & (y < crop.y + crop.h - 0.5))
    return float(inside.mean()) if len(fixations) else float("nan")


def samples(name: str, split: str, limit: int | None):
    data = open_dataset(name, split=split)
    for stem in data.stems()[:limit]:
        sample = data.load(stem)
        if len(sample.fixations):
            yield sample


def human_consistency(name: str, limit: int | None) -> str:
    """Split-half table of ``name``:test: other-half crop vs centre and same-half oracle, per aspect."""
    scores: dict[str, dict[str, list[float]]] = {k: defaultdict(list) for k in ("center", "other", "oracle")}
    for sample in samples(name, "test", limit):
        observers = np.unique(sample.fixations[:, 2])
        if len(observers) < 2:
            continue
        first = np.isin(sample.fixations[:, 2], observers[0::2])
        for source, target in ((first, ~first), (~first, first)):
            held_out = sample.fixations[target]
            densities = {k: density_from_fixations(sample.fixations[m], sample.size, sample.meta["sigma_px"])
                         for k, m in (("other", source), ("oracle", target))}
            for aspect in ASPECTS:
                scores["center"][aspect].append(fixations_inside(best_crop(densities["oracle"], aspect,
                                                                           method="center"), held_out))
                for key, density in densities.items():
                    scores[key][aspect].append(fixations_inside(best_crop(density, aspect, **PLAIN), held_out))
    mean = {k: {a: float(np.mean(v)) for a, v in per.items()} for k, per in scores.items()}
    labels = {"center": "center", "other": "crop on the other half's density",
              "oracle": "oracle (same half's density)"}
    lines = [f"Human consistency, {name} test (observers split in two halves, scored on the held-out half):\n",
             "| crop | " + " | ".join(ASPECTS) + " |", "|---" * (len(ASPECTS) + 1) + "|"]
    lines += [f"| {labels[k]} | " + " | ".join(f"{mean[k][a]:.3f}" for a in ASPECTS) + " |" for k in labels]
    gap = [(mean["other"][a] - mean["center"][a]) / (mean["oracle"][a] - mean["center"][a])
           if mean["oracle"][a] > mean["center"][a] else float("nan") for a in ASPECTS]
    lines.append("| gap closed by the other half, (other − center) / (oracle − center) | "
                 + " | ".join(f"{g:.2f}" for g in gap) + " |")
    return "\n".join(lines) + "\n"


def tune(predictor, limit: int | None) -> tuple[dict, str]:
    """Mean fixation fraction (over val sets and the goal aspects) per (γ, β); the table as Markdown."""
    scores: dict[tuple[float, float], list[float]] = defaultdict(list)
    for name in SETS:
        per_set: dict[tuple[float, float], list[float]] = defaultdict(list)
        for sample in samples(name, "val", limit):
            saliency = predictor.predict(sample.image)
            for key in itertools.product(SHARPEN_GRID, CENTER_GRID):
                per_set[key] += [fixations_inside(best_crop(saliency, a, sharpen=key[0], center_weight=key[1]),
                                                  sample.fixations) for a in GOAL_ASPECTS]
        for key, values in per_set.items():
            scores[key].append(float(np.mean(values)))
    mean = {key: float(np.mean(v)) for key, v in scores.items()}
    best = max(mean, key=mean.get)
    plain = (PLAIN["sharpen"], PLAIN["center_weight"])
    chosen = best if mean[best] - mean[plain] > MIN_GAIN else plain
    lines = ["| sharpen γ \\ centre weight β | " + " | ".join(f"{b:g}" for b in CENTER_GRID) + " |",
             "|---" * (len(CENTER_GRID) + 1) + "|"]
    for g in SHARPEN_GRID:
        cells = [f"**{mean[(g, b)]:.4f}**" if (g, b) == best else f"{mean[(g, b)]:.4f}" for b in CENTER_GRID]
        lines.append(f"| {g:g} | " + " | ".join(cells) + " |")
    text = ("Validation (osie:val + scene:val, mean of the two sets, aspects 4:5 and 9:16), default model:\n\n"
            + "\n".join(lines) + f"\n\nbest: sharpen {best[0]:g}, centre weight {best[1]:g} "
            f"({mean[best] - mean[plain]:+.4f} over plain max-mass); chosen (plain unless the best gains > "
            f"{MIN_GAIN}): sharpen {chosen[0]:g}, centre weight {chosen[1]:g}\n")
    return {"sharpen": chosen[0], "center_weight": chosen[1]}, text


def evaluate(name: str, predictors: dict, limit: int | None) -> tuple[dict, dict, int]:
    """(method → aspect → mean fraction inside, latency name → median ms, images) on ``name``:test."""
    fractions: dict[str, dict[str, list[float]]] = {m: defaultdict(list) for m in METHODS}
    timings: dict[str, list[float]] = defaultdict(list)
    n = 0
    for sample in samples(name, "test", limit):
        n += 1
        maps = {"truth": sample.density}
        for model, predictor in predictors.items():
            start = time.perf_counter()
            maps[model] = predictor.predict(sample.image)
            timings[f"map {model}"].append(time.perf_counter() - start)
        start = time.perf_counter()
        best_crop(maps["default"], "9:16")
        timings["search"].append(time.perf_counter() - start)
        for method, aspect in itertools.product(METHODS, ASPECTS):
            fractions[method][aspect].append(fixations_inside(METHODS[method](maps, aspect), sample.fixations))
    table = {m: {a: float(np.nanmean(v)) for a, v in per.items()} for m, per in fractions.items()}
    ms = {k: 1000 * float(np.median(v)) for k, v in timings.items()}
    return table, ms, n


def report(name: str, table: dict, ms: dict, n: int) -> str:
    """One dataset's Markdown: the table, gap closed, goal checks, latency."""
    lines = [f"### {name} test ({n} images): fraction of fixations inside the crop\n",
             "| method | " + " | ".join(ASPECTS) + " |", "|---" * (len(ASPECTS) + 1) + "|"]
    lines += [f"| {m} | " + " | ".join(f"{table[m][a]:.3f}" for a in ASPECTS) + " |" for m in METHODS]
    center, oracle, ours = table["center"], table["oracle (ground-truth density)"], table["saliency: default"]
    gap = {a: (ours[a] - center[a]) / (oracle[a] - center[a]) if oracle[a] > center[a] else float("nan")
           for a in ASPECTS}
    lines.append("| gap closed by saliency: default, (crop − center) / (oracle − center) | "
                 + " | ".join(f"{gap[a]:.2f}" for a in ASPECTS) + " |")
    point = table["point (default map)"]
    goal = all(gap[a] >= 0.5 for a in GOAL_ASPECTS) and all(ours[a] >= point[a] for a in ASPECTS)
    lines.append(f"\ngoal (≥ 0.5 of the gap at 4:5 and 9:16, never below point): **{'met' if goal else 'NOT met'}**\n")
    lines.append("latency per image, median, 1 thread: search only (default map, 9:16) "
                 f"{ms['search']:.1f} ms; map + search: "
                 + ", ".join(f"{m} {ms[f'map {m}'] + ms['search']:.1f} ms" for m in (*MODELS, "default+hflip")
                             if f"map {m}" in ms) + "\n")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tune", action="store_true", help="first score objective settings on the val splits")
    parser.add_argument("--limit", type=int, default=None, help="images per split (for a quick look)")
    parser.add_argument("--out", default=None, help="also write the printed Markdown here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", module="edgesal.data")
    predictors = {m: load_predictor(m, num_threads=1) for m in MODELS}
    predictors["default+hflip"] = with_tta(predictors["default"], "hflip")
    parts = [SECTION + "\n", f"Command: `python benchmarks/crop.py {' '.join(argv or sys.argv[1:])}`\n"]
    if args.tune:
        chosen, text = tune(predictors["default"], args.limit)
        parts.append(text)
        print(text, flush=True)
        if chosen != {"sharpen": SHARPEN, "center_weight": CENTER_WEIGHT}:
            print(f"note: the library uses sharpen {SHARPEN:g}, centre weight {CENTER_WEIGHT:g}: update "
                  "edgesal/cropping/search.py", flush=True)
    parts.append(f"Test splits; saliency crops use sharpen γ = {SHARPEN:g}, centre weight β = {CENTER_WEIGHT:g} "
                 "(edgesal.cropping.search); the oracle and the plain row use γ = 1, β = 0.\n")
    for name in SETS:
        text = report(name, *evaluate(name, predictors, args.limit)) + "\n" + human_consistency(name, args.limit)
        parts.append(text)
        print(text, flush=True)
    if args.out:  # only this section: the reframing benchmark writes its own into the same file
        from edgesal.atomic import write_section

        write_section(args.out, SECTION, "\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
