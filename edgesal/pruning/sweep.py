"""``prune-sweep``: methods × β × prune points → a Pareto table of cost vs. accuracy.

One pruning run per (method, β) goes up to the largest prune count / lowest FLOP level and
saves a snapshot at every requested point (greedy pruning is sequential, so the earlier
points are prefixes of the later). FLOP levels (``"50%"``) compare methods at equal cost:
the criteria remove maps of very different cost, so equal counts land far apart in FLOPs.
Each snapshot is optionally fine-tuned, then measured: FLOPs (paper formula,
``count_flops``), parameters, ONNX-Runtime single-thread latency (legacy TorchScript
exporter, opset 17, when ``onnxruntime`` is installed) and ``edgesal.evaluation.evaluate``
metrics (AUC-Judd, NSS, CC, log-likelihood for log-density models) on an evaluation split.
Rows are resumable (each run folder keeps ``results.json``).
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from functools import partial
from pathlib import Path

import torch
from torch import nn

from edgesal.atomic import atomic_path, write_json, write_text
from edgesal.errors import EdgesalError
from edgesal.models import load_checkpoint, save_checkpoint
from edgesal.models.channel_config import pruned_channel_config
from edgesal.models.checkpoint import read_checkpoint
from edgesal.models.flops import count_flops, count_params
from edgesal.models.registry import ModelSpec
from edgesal.pruning.config import snapshot_label
from edgesal.pruning.prune import prune_model, resolve_model
from edgesal.pruning.steps import Objective, finetune, prune_batches
from edgesal.runtimes.timing import median_latency
from edgesal.training.arrays import load_training_arrays

TABLE_KEYS = ("method", "beta", "pruned_maps", "gflops", "mparams", "latency_ms", "auc_judd", "nss", "cc", "ll")


def measure_onnx_latency(model: nn.Module, input_hw: tuple[int, int], runs: int = 20, warmup: int = 3) -> float | None:
    """Median single-image latency (ms) of ``model`` exported to ONNX under ONNX Runtime with
    one intra-op and one inter-op thread; None if onnxruntime is missing or export fails."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    model = model.eval()
    x = torch.zeros(1, 3, *input_hw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=17,
                                  input_names=["image"], output_names=["output"])
        except Exception as exc:
            warnings.warn(f"ONNX export failed, no latency: {type(exc).__name__}: {exc}", stacklevel=2)
            return None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        return median_latency(partial(sess.run, None, {"image": x.numpy()}), runs=runs, warmup=warmup)


def evaluate_model(model: nn.Module, spec: ModelSpec, data: str, split: str, limit: int | None) -> dict:
    """Mean metrics of ``model`` on ``data``/``split`` (first ``limit`` images)."""
    from edgesal.evaluation import evaluate, predictor_source
    from edgesal.predictors.torch_model import TorchModelPredictor

    threads = torch.get_num_threads()
    try:
        result = evaluate(data, predictor_source(TorchModelPredictor(model.eval(), spec)), split=split,
                          limit=limit, progress=False)
    finally:
        torch.set_num_threads(threads)
    return result.to_json()


def measure(model: nn.Module, spec: ModelSpec, eval_data: str | None, eval_split: str, limit: int | None,
            latency: bool) -> dict:
    """FLOPs, params, latency and metrics of one model."""
    model = model.eval()
    flops = count_flops(model, (1, 3, *spec.input_hw)).total_flops
    row = {"flops": flops, "gflops": round(flops / 1e9, 6), "params": count_params(model),
           "mparams": round(count_params(model) / 1e6, 6),
           "latency_ms": measure_onnx_latency(model, spec.input_hw) if latency else None}
    if eval_data:
        metrics = evaluate_model(model, spec, eval_data, eval_split, limit)
        row.update({k: metrics.get(k) for k in ("auc_judd", "nss", "cc", "ll", "n_images")})
    return row


def pareto_flags(rows: list[dict], metric: str = "auc_judd") -> list[bool]:
    """True for rows no other row beats (FLOPs ≤ and metric ≥, one strictly)."""
    flags = []
    for r in rows:
        m = r.get(metric)
        if m is None or not math.isfinite(m):
            flags.append(False)
            continue
        dominated = any(
            o is not r and o.get(metric) is not None and o["flops"] <= r["flops"] and o[metric] >= m
            and (o["flops"] < r["flops"] or o[metric] > m)
            for o in rows
        )
        flags.append(not dominated)
    return flags


def format_cell(v) -> str:
    """A table cell: – for None, * for a Pareto flag, 4 significant digits for floats."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "*" if v else ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def markdown_table(rows: list[dict], metric: str) -> str:
    keys = [*TABLE_KEYS, "pareto"]
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    for r in sorted(rows, key=lambda r: (r["flops"], r["method"])):
        lines.append("| " + " | ".join(format_cell(r.get(k)) for k in keys) + " |")
    note = f"pareto: optimal in FLOPs vs {metric} (* = no other row has fewer FLOPs and a higher {metric})"
    return "\n".join(lines) + f"\n\n{note}\n"


def plot(rows: list[dict], path: Path, metric: str) -> Path | None:
    """AUC-J (and LL when available) vs GFLOPs, one line per (method, β)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in (metric, "ll") if any(r.get(m) is not None for r in rows)]
    metrics = list(dict.fromkeys(metrics))
    if not metrics:
        return None
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 4.2), squeeze=False)
    series: dict[str, list[dict]] = {}
    for r in rows:
        label = r["method"] if r["method"] == "unpruned" else f"{r['method']} β={r['beta']}"
        series.setdefault(label, []).append(r)
    base = [r for r in rows if r["method"] == "unpruned"]
    for ax, m in zip(axes[0], metrics):
        for label, rs in series.items():
            if label == "unpruned":
                continue
            pts = sorted(base + rs, key=lambda r: r["flops"])
            pts = [r for r in pts if r.get(m) is not None]
            ax.plot([r["gflops"] for r in pts], [r[m] for r in pts], marker="o", label=label)
        for r in base:
            if r.get(m) is not None:
                ax.scatter([r["gflops"]], [r[m]], marker="*", s=150, color="black", zorder=5, label="unpruned")
        ax.set_xlabel("GFLOPs (paper formula)")
        ax.set_ylabel({"auc_judd": "AUC-Judd", "ll": "log-likelihood (bits/fix. vs. baseline)"}.get(m, m))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return path


def _point_order(point: int | str) -> tuple[int, float]:
    """Counts ascending, then FLOP levels descending (both: less pruned first)."""
    return (0, point) if isinstance(point, int) else (1, -float(point[:-1]))


def _beta_label(beta) -> str:
    return "star" if beta == "star" else f"{float(beta):g}"


def _eval_source(data: list[str], eval_data: str | None, eval_split: str) -> tuple[str, str]:
    """(dataset, split) to evaluate on: ``--eval NAME[:SPLIT]`` or the first training dataset."""
    if eval_data is None:
        first = data[0]
        if first.startswith("images:"):
            raise EdgesalError("give --eval NAME[:SPLIT] (the training source has no fixations)")
        return first.partition(":")[0], eval_split
    if ":" in eval_data and not Path(eval_data).exists():
        eval_data, _, eval_split = eval_data.rpartition(":")
    return eval_data, eval_split


class _SnapshotFinetuning:
    """Fine-tunes snapshots of one run with the run's objective and data order (data loaded once)."""

    def __init__(self, data: list[str], spec: ModelSpec, steps: int, prune_options: dict):
        self.data, self.spec, self.steps, self.options = data, spec, steps, prune_options
        self.objective: Objective | None = None
        self.stream = None

    def _prepare(self, run_meta: dict) -> None:
        opts, o = run_meta["pruning"], self.options
        arrays = load_training_arrays(list(self.data), self.spec.input_hw, o.get("cache_dir", "runs/cache"),
                                      o.get("teacher_cache"), False)
        self.objective = Objective(self.spec, opts.get("loss"), opts.get("signal_loss"), arrays.teacher is not None)
        self.stream = prune_batches(arrays, self.spec, int(opts["batch"]), int(opts["seed"]), o.get("hflip", True))

    def __call__(self, snap: nn.Module, snap_spec: ModelSpec, snapshot: Path, run_meta: dict) -> tuple[Path, dict]:
        """Fine-tune ``snap`` in place, save it next to ``snapshot``; returns (path, meta)."""
        if self.objective is None:
            self._prepare(run_meta)
        o = self.options
        finetune(snap, self.stream, self.objective, self.steps, o.get("lr", 0.0025), o.get("momentum", 0.9),
                 o.get("weight_decay", 0.0), o.get("bn", "eval"), progress=False)
        path = snapshot.with_name(snapshot.name.replace(".pt", f"_ft{self.steps}.pt"))
        meta = read_checkpoint(snapshot).get("meta", {})
        save_checkpoint(path, snap, snap_spec, meta={
            **meta, "pruned_channels": pruned_channel_config(snap), "finetune_steps": self.steps})
        return path, meta


def _run_rows(model: str, data: list[str], method: str, beta, points: list, run: Path, retrain: bool,
              finetuning: _SnapshotFinetuning | None, evaluation: tuple, progress: bool,
              prune_options: dict) -> list[dict]:
    """Rows of one (method, β) run: prune to the last point (resumable), measure each snapshot."""
    results_path = run / "results.json"
    done = json.loads(results_path.read_text()) if results_path.exists() else {}
    if all(str(n) in done for n in points):
        return [done[str(n)] for n in points]
    max_count = max((p for p in points if isinstance(p, int)), default=None)
    min_level = min((p for p in points if isinstance(p, str)), key=lambda p: float(p[:-1]), default=None)
    result = prune_model(model, data, method=method, beta=0.0 if beta == "star" else float(beta),
                         beta_star=beta == "star", n_prune=max_count, flop_target=min_level, snapshots=points,
                         out=run, resume=(run / "state.pt").exists(), retrain=retrain, finetune_steps=0,
                         progress=progress, **prune_options)
    rows = []
    for n in points:
        if str(n) in done:
            rows.append(done[str(n)])
            continue
        path = result.snapshots.get(n)
        if path is None:  # ran out of prunable maps before n
            continue
        snap, snap_spec, snap_meta = load_checkpoint(path)
        if finetuning is not None:
            path, snap_meta = finetuning(snap, snap_spec, result.snapshots[n], result.meta)
        row = {"method": method, "beta": _beta_label(beta), "point": n,
               "pruned_maps": snap_meta.get("pruning", {}).get("pruned_maps", n),
               **measure(snap, snap_spec, *evaluation), "path": str(path)}
        done[str(n)] = row
        write_json(results_path, done)
        rows.append(row)
    return rows


def prune_sweep(model: str, data: list[str], *, methods: list[str], betas: list | dict[str, list],
                prune_counts: list[int | str],
                out: str | Path = "runs/prune_sweep", retrain: bool = True, finetune_steps: int = 0,
                eval_data: str | None = None, eval_split: str = "val", limit: int | None = 50,
                latency: bool = True, metric: str = "auc_judd", progress: bool = True, **prune_options) -> list[dict]:
    """Run every (method, β) to its last point, measure every snapshot; returns rows.

    ``prune_counts``: prune counts (``1000``) and/or FLOP levels (``"50%"``); with both,
    each run stops at whichever of the last count and the lowest level comes first.

    ``betas``: floats and/or ``"star"`` (β*) for every method, or ``{method: [...]}`` per
    method (e.g. β > 0 only for Fisher: the baselines' scores have no loss units, so only β*
    and β = 0 mean something for them). ``retrain=False``: no SGD during pruning and
    no fine-tuning (pure signal quality). Writes ``sweep.json``, ``sweep.md``, ``sweep.png``.
    """
    out = Path(out)
    points = sorted({snapshot_label(n) for n in prune_counts} - {0}, key=_point_order)
    if not points:
        raise EdgesalError("give at least one prune count > 0 or FLOP level (50%)")
    eval_data, eval_split = _eval_source(data, eval_data, eval_split)
    evaluation = (eval_data, eval_split, limit, latency)

    base_model, spec, _ = resolve_model(model)
    base_file = out / "unpruned.json"
    if base_file.exists():
        base_row = json.loads(base_file.read_text())
    else:
        base_row = {"method": "unpruned", "beta": None, "pruned_maps": 0, **measure(base_model, spec, *evaluation)}
        write_json(base_file, base_row)
    rows: list[dict] = [base_row]
    for method in methods:
        for beta in (betas.get(method, []) if isinstance(betas, dict) else betas):
            finetuning = _SnapshotFinetuning(data, spec, finetune_steps, prune_options) \
                if retrain and finetune_steps > 0 else None
            rows += _run_rows(model, data, method, beta, points, out / f"{method}_beta{_beta_label(beta)}", retrain,
                              finetuning, evaluation, progress, prune_options)

    for r, flag in zip(rows, pareto_flags(rows, metric)):
        r["pareto"] = flag
    write_json(out / "sweep.json", {"eval": {"data": eval_data, "split": eval_split, "limit": limit},
                                    "metric": metric, "retrain": retrain, "finetune_steps": finetune_steps,
                                    "rows": rows})
    write_text(out / "sweep.md", markdown_table(rows, metric))
    plot(rows, out / "sweep.png", metric)
    return rows
