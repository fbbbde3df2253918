"""Self-contained benchmark runner: copied to a device and run with its Python.

Needs only the standard library, numpy and the runtime wheel present on the device
(ai-edge-litert / tflite-runtime, onnxruntime, openvino; ``torch`` needs edgesal). No edgesal
install is needed for the file runtimes, so the host can ``scp`` this file to a board.

Protocol: a JSON job on stdin; the last stdout line is ``EDGESAL_RESULT <json>``.
Modes:

- ``describe``: CPU model, cores, ISA flags, OS, library versions.
- ``bench``: load every model at each thread count, warm up, then ``runs`` rounds in which
  every model runs once in turn (A B A B …), so slow drifts of a noisy machine hit all
  models alike. Returns the raw per-run latencies (ms).
- ``memory``: one model; peak RSS (``getrusage`` high-water) before and after load + runs.
- ``outputs``: run preprocessed NCHW float32 inputs (``.npy``), return the maps as base64 ``.npz``.

Keep this file Python 3.8-compatible and free of edgesal imports: boards run old Pythons.
"""

from __future__ import annotations

import base64
import io
import json
import os
import platform
import sys
import time
import traceback

import numpy as np

RESULT_MARKER = "EDGESAL_RESULT "

# ---------------------------------------------------------------------------- statistics


def summarise(samples_ms) -> dict:
    """median, p90, p99, min, max, mean (ms) and FPS (= 1000 / median) of latency samples."""
    a = np.asarray(samples_ms, dtype=np.float64)
    if a.size == 0:
        return {"n": 0}
    median = float(np.median(a))
    return {
        "n": int(a.size),
        "median_ms": median,
        "p90_ms": float(np.percentile(a, 90)),
        "p99_ms": float(np.percentile(a, 99)),
        "min_ms": float(a.min()),
        "max_ms": float(a.max()),
        "mean_ms": float(a.mean()),
        "fps": 1000.0 / median if median > 0 else float("inf"),
    }


def interleave(calls, runs: int, warmup: int, clock=time.perf_counter):
    """Warm each callable up, then time ``runs`` rounds of ``calls[0](), calls[1](), …``.

    Returns one list of latencies (ms) per callable, in the order of ``calls``.
    """
    for call in calls:
        for _ in range(warmup):
            call()
    times = [[] for _ in calls]
    for _ in range(runs):
        for i, call in enumerate(calls):
            t0 = clock()
            call()
            times[i].append((clock() - t0) * 1000.0)
    return times


def paired_ratio(samples_ms, baseline_ms) -> float:
    """Median over rounds of ``samples[r] / baseline[r]`` (robust to drifts shared by both)."""
    a, b = np.asarray(samples_ms, np.float64), np.asarray(baseline_ms, np.float64)
    n = min(a.size, b.size)
    return float(np.median(a[:n] / b[:n])) if n else float("nan")


# ---------------------------------------------------------------------------- runtimes


def _is_nhwc(shape) -> bool:
    return len(shape) == 4 and shape[-1] in (1, 3) and shape[1] not in (1, 3)


def _as_maps(out) -> np.ndarray:
    """A model output → (N, H, W) float32 maps (drops a singleton channel, NCHW or NHWC)."""
    out = np.asarray(out, dtype=np.float32)
    if out.ndim == 4:
        out = out[..., 0] if out.shape[-1] == 1 and out.shape[1] != 1 else out[:, 0]
    elif out.ndim == 2:
        out = out[None]
    return out


def _static_dims(shape, hw=None):
    """Replace symbolic/unknown dims (batch → 1; spatial → ``hw`` when given)."""
    dims = [d if isinstance(d, int) and d > 0 else None for d in shape]
    if dims and dims[0] is None:
        dims[0] = 1
    if None in dims and hw and len(dims) == 4:
        h_axis, w_axis = (1, 2) if dims[-1] in (1, 3) else (2, 3)
        dims[h_axis] = dims[h_axis] or hw[0]
        dims[w_axis] = dims[w_axis] or hw[1]
    if None in dims:
        raise ValueError(f"input shape {list(shape)} is dynamic; give input_hw in the sidecar")
    return dims


def _image_input(inputs, shape_of):
    """The image input among a model's inputs: the first 4-D one (else the first)."""
    return next((i for i in inputs if len(shape_of(i)) == 4), inputs[0])


def _filler(shape, dtype) -> np.ndarray:
    """A constant value for a non-image input (zeros; a placeholder for string tensors)."""
    if np.dtype(dtype).kind in "SUO":
        return np.full([int(d) for d in shape], b"input.jpg", dtype=object)
    return np.zeros([int(d) for d in shape], dtype=dtype)


_ORT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
              "tensor(int32)": np.int32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8,
              "tensor(bool)": np.bool_, "tensor(string)": np.object_}


class Session:
    """One loaded model. ``prepare`` converts NCHW float32 to the model's input; ``run`` infers."""

    nchw_shape: tuple

    @staticmethod
    def import_runtime():
        """Import the runtime library (what the model loads with)."""
        raise NotImplementedError

    def prepare(self, x_nchw: np.ndarray):
        return x_nchw

    def run(self, prepared):
        raise NotImplementedError

    def maps(self, x_nchw: np.ndarray) -> np.ndarray:
        return _as_maps(self.run(self.prepare(x_nchw)))


class LiteRTSession(Session):
    @staticmethod
    def import_runtime():
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            try:
                from tflite_runtime.interpreter import Interpreter
            except ImportError:
                from tensorflow.lite import Interpreter  # type: ignore
        return Interpreter

    def __init__(self, path: str, threads: int, layout=None, hw=None):
        self.interp = self.import_runtime()(model_path=path, num_threads=threads)
        self.interp.allocate_tensors()
        inputs = self.interp.get_input_details()
        self.inp = _image_input(inputs, lambda d: d["shape"])
        # other inputs (e.g. a file-name string) get a constant filler once
        for d in inputs:
            if d["index"] != self.inp["index"]:
                self.interp.set_tensor(d["index"], _filler(d["shape"], d["dtype"]))
        self.out = self.interp.get_output_details()[0]
        shape = [int(d) for d in self.inp["shape"]]
        self.nhwc = layout == "nhwc" if layout else _is_nhwc(shape)
        self.nchw_shape = tuple([shape[0], shape[3], shape[1], shape[2]] if self.nhwc else shape)

    def prepare(self, x_nchw):
        x = np.transpose(x_nchw, (0, 2, 3, 1)) if self.nhwc else x_nchw
        dtype = self.inp["dtype"]
        scale, zero = self.inp["quantization"]
        if np.issubdtype(dtype, np.integer) and scale:
            info = np.iinfo(dtype)
            x = np.clip(np.round(x / scale + zero), info.min, info.max)
        return np.ascontiguousarray(x.astype(dtype))

    def run(self, prepared):
        self.interp.set_tensor(self.inp["index"], prepared)
        self.interp.invoke()
        out = self.interp.get_tensor(self.out["index"])
        scale, zero = self.out["quantization"]
        if np.issubdtype(out.dtype, np.integer) and scale:
            out = (out.astype(np.float32) - zero) * scale
        return out


class OnnxRuntimeSession(Session):
    @staticmethod
    def import_runtime():
        import onnxruntime

        return onnxruntime

    def __init__(self, path: str, threads: int, layout=None, hw=None):
        ort = self.import_runtime()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        inputs = self.sess.get_inputs()
        inp = _image_input(inputs, lambda i: i.shape)
        self.name = inp.name
        self.dtype = np.float16 if "float16" in inp.type else np.float32
        self.nchw_shape = tuple(_static_dims(inp.shape, hw))
        self.extra = {i.name: _filler(_static_dims(i.shape), _ORT_TYPES.get(i.type, np.float32))
                      for i in inputs if i.name != self.name}

    def prepare(self, x_nchw):
        return np.ascontiguousarray(x_nchw.astype(self.dtype))

    def run(self, prepared):
        return self.sess.run(None, {self.name: prepared, **self.extra})[0]


class OpenVINOSession(Session):
    @staticmethod
    def import_runtime():
        import openvino

        return openvino

    def __init__(self, path: str, threads: int, layout=None, hw=None):
        core = self.import_runtime().Core()
        model = core.read_model(path)
        shape = [d.get_length() if d.is_static else -1 for d in model.inputs[0].get_partial_shape()]
        self.nchw_shape = tuple(_static_dims(shape, hw))
        if -1 in shape:
            model.reshape({model.inputs[0].any_name: list(self.nchw_shape)})
        # f32 like edgesal.runtimes.openvino: bf16-capable CPUs would otherwise lower precision
        config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_PRECISION_HINT": "f32"}
        self.request = core.compile_model(model, "CPU", config).create_infer_request()

    def run(self, prepared):
        self.request.infer({0: prepared})
        return self.request.get_output_tensor(0).data.copy()


class TorchSession(Session):
    """A ``.pt`` checkpoint or shipped/registered name (needs edgesal on the device)."""

    @staticmethod
    def import_runtime():
        import torch
        import edgesal.model_info  # noqa: F401

        return torch

    def __init__(self, path: str, threads: int, layout=None, hw=None):
        from edgesal.model_info import resolve_torch_model

        self.torch, self.threads = self.import_runtime(), threads
        model, spec, _ = resolve_torch_model(path)
        if model is None:
            raise ValueError(f"{path}: not a .pt checkpoint or model name")
        self.model = model.eval()
        self.nchw_shape = (1, 3, *(hw or spec.input_hw))

    def prepare(self, x_nchw):
        return self.torch.from_numpy(np.ascontiguousarray(x_nchw, dtype=np.float32))

    def run(self, prepared):
        self.torch.set_num_threads(self.threads)  # global: set before every call (interleaving)
        with self.torch.inference_mode():
            return self.model(prepared).numpy()


RUNTIMES = {
    "litert": LiteRTSession,
    "onnxruntime": OnnxRuntimeSession,
    "openvino": OpenVINOSession,
    "torch": TorchSession,
}


def runtime_class(name: str):
    if name not in RUNTIMES:
        raise ValueError(f"unknown runtime {name!r} (known: {', '.join(RUNTIMES)})")
    return RUNTIMES[name]


def open_session(model: dict, threads: int) -> Session:
    """Load ``{"path", "runtime", "layout"?, "input_hw"?}`` with ``threads`` CPU threads."""
    return runtime_class(model["runtime"])(model["path"], threads, model.get("layout"), model.get("input_hw"))


def make_input(spec: dict, nchw_shape) -> np.ndarray:
    """A preprocessed NCHW float32 batch of one: a stored ``.npy`` or seeded random pixels."""
    if spec.get("kind") == "npy":
        return np.load(spec["path"]).astype(np.float32)
    rng = np.random.default_rng(int(spec.get("seed", 0)))
    pixels = rng.random((1,) + tuple(nchw_shape[1:]), dtype=np.float32)
    mean = np.asarray(spec.get("mean", [0.5] * nchw_shape[1]), np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(spec.get("std", [0.5] * nchw_shape[1]), np.float32).reshape(1, -1, 1, 1)
    return (pixels - mean) / std


# ---------------------------------------------------------------------------- describe

_X86_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
              "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8")
_ARM_FEATURES = {"asimd": "neon", "asimdhp": "fp16", "asimddp": "dotprod", "i8mm": "i8mm", "bf16": "bf16",
                 "sve": "sve", "sve2": "sve2", "sme": "sme"}
_ARM_PARTS = {"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
              "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
              "0xd0c": "Neoverse-N1", "0xd0d": "Cortex-A77", "0xd40": "Neoverse-V1", "0xd41": "Cortex-A78",
              "0xd44": "Cortex-X1", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710", "0xd48": "Cortex-X2",
              "0xd49": "Neoverse-N2", "0xd4d": "Cortex-A715", "0xd4e": "Cortex-X3", "0xd80": "Cortex-A520",
              "0xd81": "Cortex-A720", "0xd82": "Cortex-X4"}
_LIBRARIES = ("numpy", "onnxruntime", "ai-edge-litert", "tflite-runtime", "openvino", "torch", "edgesal")


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def parse_cpuinfo(text: str) -> dict:
    """CPU model and ISA flags of interest from /proc/cpuinfo text (x86 or ARM)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    if "flags" in fields:
        have = set(fields["flags"].split())
        return {"cpu_model": fields.get("model name", "unknown x86"),
                "isa": [f for f in _X86_FLAGS if f in have]}
    have = set(fields.get("Features", "").split())
    parts = [ln.partition(":")[2].strip() for ln in text.splitlines() if ln.partition(":")[0].strip() == "CPU part"]
    cores = [_ARM_PARTS.get(p, p) for p in dict.fromkeys(parts)]  # big.LITTLE: each core type once
    model = fields.get("Model") or fields.get("Hardware") or " + ".join(cores) or "unknown"
    return {"cpu_model": model, "cpu_cores_kind": cores,
            "isa": [name for flag, name in _ARM_FEATURES.items() if flag in have]}


def _library_versions() -> dict:
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover - Python < 3.8
        return {}
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def describe() -> dict:
    """Where this runner runs: CPU, cores, ISA flags, OS, Python and library versions."""
    os_release = dict(
        line.split("=", 1) for line in _read("/etc/os-release").splitlines() if "=" in line
    )
    info = {
        "machine": platform.machine(),
        "system": platform.system(),
        "kernel": platform.release(),
        "os": os_release.get("PRETTY_NAME", platform.platform()).strip('"'),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "emulated": bool(os.environ.get("EDGESAL_EMULATED")),
        "libraries": _library_versions(),
    }
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    info.update(parse_cpuinfo(_read("/proc/cpuinfo")))
    board = _read("/proc/device-tree/model").strip("\x00\n ")
    if board:
        info["board"] = board
    if info["system"] == "Darwin":
        info["cpu_model"] = platform.processor() or "Apple"
    return info


# ---------------------------------------------------------------------------- modes


def _status_mb(field_name: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of this process from /proc (Linux), in MiB."""
    for line in _read("/proc/self/status").splitlines():
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


def run_bench(job: dict) -> dict:
    """Per thread count: load all models, then time them interleaved (raw samples returned)."""
    results = []
    for threads in job["threads"]:
        sessions, calls = [], []
        for model in job["models"]:
            t0 = time.perf_counter()
            session = open_session(model, threads)
            load_ms = (time.perf_counter() - t0) * 1000.0
            prepared = session.prepare(make_input(model.get("input") or {}, session.nchw_shape))
            t0 = time.perf_counter()
            session.run(prepared)
            first_ms = (time.perf_counter() - t0) * 1000.0
            sessions.append((model, session, load_ms, first_ms))
            calls.append(lambda s=session, p=prepared: s.run(p))
        times = interleave(calls, int(job["runs"]), int(job["warmup"]))
        for (model, session, load_ms, first_ms), samples in zip(sessions, times):  # noqa: B905 (py3.8)
            results.append({"model": model["label"], "runtime": model["runtime"], "threads": threads,
                            "input_shape_nchw": list(session.nchw_shape), "load_ms": load_ms,
                            "first_ms": first_ms, "latencies_ms": samples})
        del sessions, calls
    return {"results": results, "process_peak_rss_mb": _peak_rss_mb()}


def run_memory(job: dict) -> dict:
    """Peak RSS of a process running one model; ``model_peak_rss_mb`` excludes Python + runtime import."""
    model = job["models"][0]
    runtime_class(model["runtime"]).import_runtime()
    baseline = _status_mb("VmRSS") or _peak_rss_mb()
    session = open_session(model, int(job["threads"][0]))
    prepared = session.prepare(make_input(model.get("input") or {}, session.nchw_shape))
    for _ in range(max(3, int(job.get("warmup", 3)))):
        session.run(prepared)
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


if __name__ == "__main__":
    sys.exit(main())
