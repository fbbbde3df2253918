"""Pareto report: accuracy (OSIE test AUC-Judd and NSS) against latency, every model × runtime ×
precision and the peers, all timed in ONE interleaved run (1 thread).

Per model (command line; default ``default fast`` plus ``nano`` once it is a known model name):
the artefacts of ``edgesal benchmark`` (every target × fp32/int8; reused from
``runs/benchmark/<model>`` when current, else exported) that passed the parity gate, and the torch
model itself. Peers: the glimpse and attention-center TFLite files from ``../shared/weights``.
Accuracy: :func:`edgesal.evaluation.evaluate` of each (``--limit`` for a quicker, partial split);
latency: the bench harness (``edgesal bench``), all files interleaved, random input.

    python benchmarks/pareto.py --limit 40 --out docs/results/pareto
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from edgesal.atomic import atomic_path, write_json, write_text
from edgesal.runtimes.timing import paired_ratio

PEERS = {"glimpse": "glimpse/model.tflite", "attention-center": "attention_center/center.tflite"}
COLUMNS = ["model", "runtime", "precision", "MB", "median ms", "× glimpse", "AUC-J", "NSS", "pareto"]


def default_models() -> list[str]:
    """``default``, ``fast`` and ``nano`` once it is a known model with weights (it is being trained)."""
    from edgesal.models.factory import model_source

    nano = model_source("nano")
    return ["default", "fast"] + (["nano"] if nano is not None and (nano.kind != "shipped" or nano.path) else [])


def pareto_flags(rows: list[dict], metric: str) -> list[bool]:
    """True where no other row is at least as fast and at least as accurate, and better in one."""
    def ok(r: dict) -> bool:
        return r.get("median_ms") is not None and r.get(metric) is not None and math.isfinite(r[metric])

    flags = []
    for r in rows:
        flags.append(ok(r) and not any(
            ok(o) and o is not r and o["median_ms"] <= r["median_ms"] and o[metric] >= r[metric]
            and (o["median_ms"] < r["median_ms"] or o[metric] > r[metric]) for o in rows))
    return flags


def _num(value, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict]) -> list[list[str]]:
    """The Pareto table as strings, fastest first; ``*``: on the AUC-J/latency front, ``†``: on NSS's."""
    on_auc, on_nss = pareto_flags(rows, "auc_judd"), pareto_flags(rows, "nss")
    marked = [(r, ("*" if a else "") + ("†" if n else "")) for r, a, n in zip(rows, on_auc, on_nss, strict=True)]
    marked.sort(key=lambda rm: (rm[0].get("median_ms") is None, rm[0].get("median_ms") or 0.0))
    return [[r["model"], r["runtime"], r["precision"], _num(r.get("size_mb"), 2), _num(r.get("median_ms"), 2),
             _num(r.get("ratio_glimpse"), 2), _num(r.get("auc_judd"), 4), _num(r.get("nss"), 3), mark]
            for r, mark in marked]


MARKERS = {"torch": "s", "onnxruntime": "o", "litert": "^", "openvino": "D", "peer": "*"}


def plot(rows: list[dict], path: Path) -> Path:
    """Two panels (AUC-J, NSS) against median latency: colour = model, marker = runtime, hollow = int8."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    models = list(dict.fromkeys(r["model"] for r in rows))
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    for ax, metric, label in ((axes[0], "auc_judd", "AUC-Judd"), (axes[1], "nss", "NSS")):
        for r in rows:
            if r.get("median_ms") is None or r.get(metric) is None:
                continue
            colour, int8 = colours[r["model"]], r["precision"] == "int8"
            ax.scatter(r["median_ms"], r[metric], marker=MARKERS.get(r["runtime"], "o"), zorder=3,
                       s=170 if r["runtime"] == "peer" else 55, edgecolors=colour, linewidths=1.5,
                       facecolors="none" if int8 else colour)
        ax.set_xscale("log")
        ax.set_xlabel("median latency, ms (1 thread, log scale)")
        ax.set_ylabel(f"OSIE test {label}")
        ax.grid(alpha=0.3, which="both")
    handles = [Line2D([], [], ls="", marker="o", color=colours[m], label=m) for m in models]
    handles += [Line2D([], [], ls="", marker=mk, color="grey", label=rt) for rt, mk in MARKERS.items()
                if any(r["runtime"] == rt for r in rows)]
    handles.append(Line2D([], [], ls="", marker="o", mfc="none", color="grey", label="int8 (hollow)"))
    axes[1].legend(handles=handles, fontsize=7, loc="lower right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return path


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _model_entries(model: str, args) -> list[dict]:
    """The torch model and its artefacts that passed the gate (exported or reused)."""
    from edgesal.bench.suite import BenchmarkRequest, export_all

    request = BenchmarkRequest(model=model, data=args.data, split=args.split, limit=args.limit,
                               targets=tuple(args.targets), precisions=tuple(args.precisions))
    jobs, _, _ = export_all(request, _log)
    entries = [{"model": model, "runtime": "torch", "precision": "fp32", "path": model, "size_mb": None}]
    for job in jobs:
        if job.status == "passed":
            from edgesal.export.formats import get_format

            entries.append({"model": model, "runtime": get_format(job.target).runtime, "precision": job.precision,
                            "path": job.artefact, "size_mb": job.size_mb})
        else:
            _log(f"{model} {job.target} {job.precision}: left out ({job.reason})")
    return entries


def _peer_entries() -> list[dict]:
    from edgesal.paths import shared_path

    entries = []
    for name, relative in PEERS.items():
        path = shared_path("weights", relative)
        if path is None:
            _log(f"peer {name}: ../shared/weights/{relative} not found, left out")
            continue
        entries.append({"model": name, "runtime": "peer", "precision": "fp32", "path": str(path),
                        "predictor": name, "size_mb": round(Path(path).stat().st_size / 2**20, 3)})
    return entries


def measure(entries: list[dict], args) -> tuple[list[dict], dict]:
    """Accuracy of each entry, then one interleaved timing run of all of them."""
    from edgesal.bench.harness import BenchRequest, run_bench
    from edgesal.evaluation import evaluate, predictor_source
    from edgesal.predictors import load_predictor

    for e in entries:
        _log(f"scoring {e['model']} {e['runtime']} {e['precision']} on {args.data} {args.split}")
        predictor = load_predictor(e.get("predictor") or e["path"], data=args.data, num_threads=1)
        means = evaluate(args.data, predictor_source(predictor), split=args.split, limit=args.limit).means
        e.update(auc_judd=means["auc_judd"], nss=means["nss"])
    _log(f"timing {len(entries)} models interleaved: {args.warmup} warm-up + {args.runs} runs, 1 thread")
    doc = run_bench(BenchRequest(models=[e["path"] for e in entries], threads=[1], runs=args.runs,
                                 warmup=args.warmup, parity=False, memory=False), log=_log)
    timed = {m["path"]: r for m, r in zip(doc["models"], doc["results"], strict=True)}
    glimpse = next((timed[e["path"]] for e in entries if e["model"] == "glimpse"), None)
    for e in entries:
        r = timed[e["path"]]
        e["median_ms"] = r["median_ms"]
        e["ratio_glimpse"] = paired_ratio(r["latencies_ms"], glimpse["latencies_ms"]) if glimpse else None
    return entries, doc["device"]


def markdown(rows: list[dict], device: dict, args) -> str:
    limit = f", first {args.limit} images" if args.limit else " (all images)"
    lines = ["# Pareto: accuracy against latency", "",
             f"`python benchmarks/pareto.py {' '.join(args.argv)}`", "",
             f"Accuracy: {args.data} {args.split}{limit}. Latency: median of {args.runs} runs after {args.warmup} "
             f"warm-up, all rows interleaved in one run, 1 thread, random input, on {device.get('cpu_model', '?')} "
             f"({device.get('cores', '?')} cores); × glimpse = median of per-round ratios to glimpse. Peer latency "
             "is the bare model file (their predictors add resizing like ours). Only artefacts that passed the "
             "export parity gate are listed. `*`: on the AUC-J/latency Pareto front; `†`: on the NSS one.", "",
             "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in table(rows)]
    return "\n".join(lines + ["", f"![accuracy against latency]({Path(args.out).name}.png)", ""])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="models (default: default fast [nano])")
    parser.add_argument("--data", default="osie")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N images")
    parser.add_argument("--targets", nargs="*", default=[], help="export targets (default: all)")
    parser.add_argument("--precisions", nargs="*", default=["fp32", "int8"])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--out", default="docs/results/pareto", help="writes OUT.md, OUT.png, OUT.json")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    entries = [e for m in (args.models or default_models()) for e in _model_entries(m, args)]
    entries += [] if args.no_peers else _peer_entries()
    rows, device = measure(entries, args)
    print("\n".join(" | ".join(r) for r in [COLUMNS, *table(rows)]))
    out = Path(args.out)
    write_json(out.with_suffix(".json"), {"device": device, "rows": rows})
    write_text(out.with_suffix(".md"), markdown(rows, device, args))
    plot(rows, out.with_suffix(".png"))
    _log(f"wrote {out}.md, {out}.png, {out}.json")


if __name__ == "__main__":
    main()
