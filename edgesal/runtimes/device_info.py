"""Where a runner runs: CPU model, cores, ISA flags, OS, Python and library versions.

Part of the device-side runtime layer: standard library only, Python 3.8.
"""

from __future__ import annotations

import contextlib
import os
import platform

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


def read_text_file(path: str) -> str:
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
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[name] = metadata.version(name)
    return out


def describe() -> dict:
    """Where this runner runs: CPU, cores, ISA flags, OS, Python and library versions."""
    os_release = dict(
        line.split("=", 1) for line in read_text_file("/etc/os-release").splitlines() if "=" in line
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
    info.update(parse_cpuinfo(read_text_file("/proc/cpuinfo")))
    board = read_text_file("/proc/device-tree/model").strip("\x00\n ")
    if board:
        info["board"] = board
    if info["system"] == "Darwin":
        info["cpu_model"] = platform.processor() or "Apple"
    return info
