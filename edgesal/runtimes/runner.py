"""The benchmark runner: what a device runs, with its own Python, to time and run models.

Shipped with the rest of this package (:mod:`edgesal.bench.bundle` zips it) and run as
``python edgesal-runner.pyz``: it needs numpy and the runtime wheel present on the device
(ai-edge-litert / tflite-runtime, onnxruntime, openvino); no edgesal install, no torch
(``torch`` models name a session class outside this package and need edgesal there).

Protocol: a JSON job on stdin; the last stdout line is ``EDGESAL_RESULT <json>``.
Each job model is ``{"label", "path", "runtime", "session", "layout"?, "input_hw"?, "input"?}``
(``session``: the "module:Class" that opens it). Modes:

- ``describe``: CPU model, cores, ISA flags, OS, library versions.
- ``bench``: load every model at each thread count, warm up, then ``runs`` rounds in which
  every model runs once in turn (A B A B …), so slow drifts of a noisy machine hit all
  models alike. Returns the raw per-run latencies (ms).
- ``memory``: one model; peak RSS (``getrusage`` high-water) before and after load + runs.
- ``outputs``: run preprocessed NCHW float32 inputs (``.npy``), return the maps as base64 ``.npz``.

Part of the device-side runtime layer: numpy + standard library, Python 3.8.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import time
import traceback

import numpy as np

from .base import RuntimeSession
from .device_info import describe, read_text_file
from .formats import session_class
from .timing import interleave

RESULT_MARKER = "EDGESAL_RESULT "


def open_session(model: dict, threads: int) -> RuntimeSession:
    """Load a job model with ``threads`` CPU threads; the host's metadata stands in for the file's."""
    hints = {"layout": model.get("layout"), "input_hw": model.get("input_hw")}
    return session_class(model["session"])(model["path"], threads, hints)


def make_input(spec: dict, nchw_shape) -> np.ndarray:
    """A preprocessed NCHW float32 batch of one: a stored ``.npy`` or seeded random pixels."""
    if spec.get("kind") == "npy":
        return np.load(spec["path"]).astype(np.float32)
    rng = np.random.default_rng(int(spec.get("seed", 0)))
    pixels = rng.random((1,) + tuple(nchw_shape[1:]), dtype=np.float32)
    mean = np.asarray(spec.get("mean", [0.5] * nchw_shape[1]), np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec.get("std", [0.5] * nchw_shape[1]), np.float32).reshape(1, -1, 1, 1)
    return (pixels - mean) / std


def _status_mb(field_name: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of this process from /proc (Linux), in MiB."""
    for line in read_text_file("/proc/self/status").splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024.0
    return None


def _peak_rss_mb() -> float | None:
    """Peak RSS of this process. ``VmHWM`` on Linux: unlike ``ru_maxrss`` it is not inherited
    from the (possibly large) parent across fork + exec."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024.0  # bytes on macOS, KiB elsewhere


def _load_timed(model: dict, threads: int) -> dict:
    """Open one model and run it once: the session, its prepared input, load and first-run ms."""
    t0 = time.perf_counter()
    session = open_session(model, threads)
    load_ms = (time.perf_counter() - t0) * 1000.0
    prepared = session.prepare(make_input(model.get("input") or {}, session.nchw_shape))
    t0 = time.perf_counter()
    session.invoke(prepared)
    first_ms = (time.perf_counter() - t0) * 1000.0
    return {"model": model, "session": session, "prepared": prepared, "load_ms": load_ms, "first_ms": first_ms}


def run_bench(job: dict) -> dict:
    """Per thread count: load all models, then time them interleaved (raw samples returned)."""
    results = []
    for threads in job["threads"]:
        loaded = [_load_timed(model, threads) for model in job["models"]]
        calls = [lambda s=m["session"], p=m["prepared"]: s.invoke(p) for m in loaded]
        times = interleave(calls, int(job["runs"]), int(job["warmup"]))
        for m, samples in zip(loaded, times):
            results.append({"model": m["model"]["label"], "runtime": m["model"]["runtime"], "threads": threads,
                            "input_shape_nchw": list(m["session"].nchw_shape), "load_ms": m["load_ms"],
                            "first_ms": m["first_ms"], "latencies_ms": samples})
        del loaded, calls
    return {"results": results, "process_peak_rss_mb": _peak_rss_mb()}


def run_memory(job: dict) -> dict:
    """Peak RSS of a process running one model; ``model_peak_rss_mb`` excludes Python + runtime import."""
    model = job["models"][0]
    session_class(model["session"]).load_library()
    baseline = _status_mb("VmRSS") or _peak_rss_mb()
    session = open_session(model, int(job["threads"][0]))
    prepared = session.prepare(make_input(model.get("input") or {}, session.nchw_shape))
    for _ in range(max(3, int(job.get("warmup", 3)))):
        session.invoke(prepared)
    peak = _peak_rss_mb()
    return {"model": model["label"], "runtime_import_rss_mb": baseline, "peak_rss_mb": peak,
            "model_peak_rss_mb": None if peak is None or baseline is None else peak - baseline}


def run_outputs(job: dict) -> dict:
    """Output maps of one model for stored inputs, one image at a time (parity on the device)."""
    model = job["models"][0]
    session = open_session(model, int(job["threads"][0]))
    inputs = np.load(job["inputs_npy"]).astype(np.float32)
    maps = np.concatenate([session.maps(inputs[i:i + 1]) for i in range(len(inputs))])
    buf = io.BytesIO()
    np.savez_compressed(buf, maps=maps)
    return {"model": model["label"], "maps_npz_b64": base64.b64encode(buf.getvalue()).decode()}


MODES = {
    "describe": lambda job: {"device": describe()},
    "bench": run_bench,
    "memory": run_memory,
    "outputs": run_outputs,
}


def decode_maps(result: dict) -> np.ndarray:
    """The maps of an ``outputs`` result (host side)."""
    with np.load(io.BytesIO(base64.b64decode(result["maps_npz_b64"]))) as data:
        return data["maps"]


def parse_result(stdout: str) -> dict | None:
    """The runner's result (host side): the JSON after the last ``EDGESAL_RESULT`` marker line."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            return json.loads(line[len(RESULT_MARKER):])
    return None


def main() -> int:
    try:
        job = json.loads(sys.stdin.read())
        for entry in job.get("sys_path", []):
            sys.path.insert(0, entry)
        result = MODES[job["mode"]](job)
    except Exception as exc:  # the host turns this into one line
        traceback.print_exc(file=sys.stderr)
        result = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0
