"""``run_bench``: time models on a device (interleaved), measure memory, re-check parity.

The result is one JSON-serialisable document (``schema: edgesal-bench/1``) that
:mod:`edgesal.bench.report` renders; the CLI only parses arguments and calls this.
"""

from __future__ import annotations

import datetime as _dt
import math
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgesal import __version__
from edgesal.bench.artefact import Artefact, resolve_artefact
from edgesal.bench.devices import BenchJob, Device, DeviceOptions, open_device
from edgesal.errors import EdgesalError
from edgesal.runtimes.device_info import describe
from edgesal.runtimes.timing import paired_ratio, summarise

SCHEMA = "edgesal-bench/1"


@dataclass
class BenchRequest:
    models: list[str]
    runtime: str = "auto"
    threads: list[int] = field(default_factory=lambda: [1])
    device: str = "local"
    runs: int = 50
    warmup: int = 10
    target_fps: float = 30.0
    image: str | None = None  # a real image (preprocessed per model); default: seeded random pixels
    seed: int = 0
    parity: bool = True
    memory: bool = True

    def validate(self) -> None:
        if not self.models:
            raise EdgesalError("give at least one model file or name")
        if self.runs < 1 or self.warmup < 0:
            raise EdgesalError(f"--runs must be ≥ 1 and --warmup ≥ 0 (got {self.runs}, {self.warmup})")
        if not self.threads or min(self.threads) < 1:
            raise EdgesalError(f"--threads must be positive integers (got {self.threads})")
        if not 0 < self.target_fps < math.inf:
            raise EdgesalError(f"--target-fps must be a finite number > 0 (got {self.target_fps})")


def unique_labels(artefacts: list[Artefact]) -> list[Artefact]:
    """Give models with the same file name distinct labels (``dirA/x.onnx``, ``dirB/x.onnx``)."""
    names = [a.label for a in artefacts]
    for a in artefacts:
        if names.count(a.label) > 1 and a.is_file:
            a.label = f"{Path(a.path).parent.name}/{a.label}"
    labels = [a.label for a in artefacts]
    for i, a in enumerate(artefacts):
        if labels.count(a.label) > 1:
            a.label = f"{a.label}#{i + 1}"
    return artefacts


def _input_specs(artefacts: list[Artefact], request: BenchRequest, folder: Path) -> dict[str, dict]:
    """Per model: seeded random pixels normalised with its mean/std, or the preprocessed image."""
    specs = {}
    for i, a in enumerate(artefacts):
        mean, std = a.metadata.get("mean", [0.5] * 3), a.metadata.get("std", [0.5] * 3)
        if request.image is None:
            specs[a.label] = {"kind": "random", "seed": request.seed, "mean": mean, "std": std}
            continue
        if a.input_hw is None:
            raise EdgesalError(f"{a.label}: unknown input size (no sidecar metadata): drop --input to use random data")
        from edgesal.data import load_rgb
        from edgesal.predictors.torch_model import preprocess

        x = preprocess(load_rgb(request.image), a.input_hw, mean, std).numpy().astype(np.float32)
        path = folder / f"input{i}.npy"
        np.save(path, x)
        specs[a.label] = {"kind": "npy", "path": str(path)}
    return specs


def summarise_results(raw: list[dict], target_fps: float, emulated: bool) -> list[dict]:
    """Stats per (model, threads), ratio to the first model at the same threads, FPS verdict."""
    rows = []
    first: dict[int, dict] = {}
    for r in raw:
        stats = r.get("stats") or summarise(r["latencies_ms"])
        row = {"model": r["model"], "runtime": r["runtime"], "threads": r["threads"], **stats,
               "input_shape_nchw": r.get("input_shape_nchw"),
               "load_ms": r.get("load_ms"), "first_ms": r.get("first_ms"), "emulated": emulated,
               "target_fps": target_fps, "meets_target": None if emulated else bool(stats["fps"] >= target_fps),
               "latencies_ms": r.get("latencies_ms")}
        base = first.setdefault(r["threads"], row)
        if row["latencies_ms"] and base["latencies_ms"]:
            row["ratio_to_first"] = paired_ratio(row["latencies_ms"], base["latencies_ms"])
        else:
            row["ratio_to_first"] = row["median_ms"] / base["median_ms"]
        rows.append(row)
    return rows


def check_parity(device: Device, artefact: Artefact) -> dict:
    """CC (and max |Δ|) of the device's output maps against the stored torch fp32 references."""
    from edgesal.export.parity import DEFAULT_THRESHOLDS, to_saliency
    from edgesal.metrics import cc

    inputs, reference, kind = artefact.load_reference()
    maps = device.outputs(artefact, inputs)
    reference = reference.reshape(len(reference), *reference.shape[-2:])
    if maps.shape != reference.shape:
        raise EdgesalError(f"{artefact.label}: output maps {list(maps.shape)} ≠ reference {list(reference.shape)}")
    ccs = [cc(to_saliency(m, kind), to_saliency(r, kind)) for m, r in zip(maps, reference, strict=True)]
    min_cc = DEFAULT_THRESHOLDS[artefact.precision].min_cc  # the export gate's own table
    finite = bool(np.isfinite(maps).all())
    return {"images": len(ccs), "precision": artefact.precision, "cc_mean": float(np.mean(ccs)),
            "cc_min": float(np.min(ccs)), "max_abs_diff": float(np.abs(maps - reference).max()),
            "min_cc": min_cc, "passed": finite and float(np.mean(ccs)) >= min_cc}


def _checkable(artefacts: list[Artefact], parity: bool, device: Device, log: Callable[[str], None]) -> list[Artefact]:
    """The artefacts whose parity this run checks; their references are read now, so a broken
    one fails before the timed runs."""
    checkable = [a for a in artefacts if a.reference is not None] if parity else []
    if checkable and not device.supports_outputs:
        log(f"no parity check: {device.kind} devices return no output maps")
        return []
    for a in checkable:
        a.load_reference()
    return checkable


def _verdicts(rows: list[dict], parity: dict, device: Device) -> dict:
    fps = "not compared (emulated timings)" if device.emulated else (
        "pass" if all(r["meets_target"] for r in rows) else "fail")
    if parity:
        par = "pass" if all(p["passed"] for p in parity.values()) else "fail"
    else:
        par = "not checked" if device.supports_outputs else f"not available on {device.kind} devices"
    return {"fps": fps, "parity": par}


def run_bench(request: BenchRequest, options: DeviceOptions | None = None,
              log: Callable[[str], None] | None = None) -> dict:
    """Benchmark ``request.models`` on ``request.device``; the report document."""
    log = log or (lambda msg: None)
    request.validate()
    artefacts = unique_labels([resolve_artefact(m, request.runtime) for m in request.models])
    with tempfile.TemporaryDirectory(prefix="edgesal-bench-") as tmp, \
            open_device(request.device, options or DeviceOptions()) as device:
        checkable = _checkable(artefacts, request.parity, device, log)
        job = BenchJob(artefacts, list(request.threads), request.runs, request.warmup,
                       _input_specs(artefacts, request, Path(tmp)))
        log(f"describing {device.name}")
        described = device.describe()
        log(f"timing {len(artefacts)} model(s) × threads {request.threads}: {request.warmup} warm-up + "
            f"{request.runs} interleaved runs")
        raw = device.bench(job)
        memory = {a.label: device.memory(job, a) for a in artefacts} if request.memory else {}
        parity: dict[str, dict] = {}
        for a in checkable:
            log(f"parity of {a.label} against {a.reference.name}")
            parity[a.label] = check_parity(device, a)
    rows = summarise_results(raw, request.target_fps, device.emulated)
    return {
        "schema": SCHEMA,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "edgesal_version": __version__,
        "device": {"spec": request.device, "kind": device.kind, "emulated": device.emulated, **described},
        "host": describe() if request.device != "local" else None,
        "config": {**{k: v for k, v in asdict(request).items() if k != "models"},
                   "input": request.image or f"random pixels (seed {request.seed})"},
        "models": [{"label": a.label, "path": a.path, "runtime": a.runtime, "precision": a.precision,
                    "input_hw": list(a.input_hw) if a.input_hw else None,
                    "reference": str(a.reference) if a.reference else None} for a in artefacts],
        "results": rows,
        "memory": {k: v for k, v in memory.items() if v},
        "parity": parity,
        "verdict": _verdicts(rows, parity, device),
    }
