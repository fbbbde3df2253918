"""Model comparison table: params, GFLOPs, OSIE-test metrics and 1-thread CPU latency.

Latency is measured in one interleaved run (A B C A B C …) so that all models see the same
machine load; the last column is the ratio to the first model in the list.

    python benchmarks/model_table.py default runs/nodistill/best.pt glimpse attention-center \
        --data osie --split test --out docs/model_table.md
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from edgesal.evaluation import evaluate, predictor_source
from edgesal.model_info import model_info
from edgesal.predictors import load_predictor

COLUMNS = ["model", "input", "params (M)", "GFLOPs", "AUC-J", "sAUC", "NSS", "CC", "KL", "ms (1 thread)", "× first"]


def interleaved_latency(predictors: dict, image: np.ndarray, rounds: int, warmup: int = 3) -> dict[str, float]:
    """Median ms per prediction, models interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in predictors}
    for r in range(warmup + rounds):
        for name, predictor in predictors.items():
            start = time.perf_counter()
            predictor.predict(image)
            if r >= warmup:
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: float(np.median(t)) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--data", default="osie")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="Markdown table (JSON beside it)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    predictors = {m: load_predictor(m, data=args.data, num_threads=1) for m in args.models}
    rows = {}
    for name, predictor in predictors.items():
        facts = model_info(name) if hasattr(predictor, "spec") else {}  # FLOPs at the model's own input
        result = evaluate(args.data, predictor_source(predictor), split=args.split, limit=args.limit)
        rows[name] = {"params": facts.get("params"), "flops": facts.get("flops"), **result.to_json()}
    from edgesal.data import open_dataset

    ds = open_dataset(args.data, split=args.split)
    image = ds.load(ds.stems()[0]).image
    latency = interleaved_latency(predictors, image, args.rounds)
    first = latency[args.models[0]]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for name in args.models:
        r, predictor = rows[name], predictors[name]
        r["latency_ms"] = latency[name]
        params = f"{r['params'] / 1e6:.2f}" if r["params"] else "—"
        gflops = f"{r['flops'] / 1e9:.3f}" if r["flops"] else "—"
        hw = getattr(getattr(predictor, "spec", None), "input_hw", None) or getattr(predictor, "input_hw", None)
        size = f"{hw[0]}×{hw[1]}" if hw else "image"
        lines.append(f"| {name} | {size} | {params} | {gflops} | {r['auc_judd']:.4f} | {r['sauc']:.4f} | "
                     f"{r['nss']:.3f} | "
                     f"{r['cc']:.4f} | {r['kld']:.3f} | {latency[name]:.1f} | {latency[name] / first:.2f} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"{args.data} / {args.split}, latency = full predict() incl. resize, 1 thread\n\n{table}\n")
        args.out.with_suffix(".json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
