"""Count the aarch64 instructions one inference executes, per model and core, under qemu-user.

One emulated Python per core loads every model with the runtime layer (LiteRT/XNNPACK or
onnxruntime, ``threads`` threads), warms each up, then runs N and 2N invokes between marker
system calls (:mod:`.guest`). The plugin's counts at the marks give ``first`` (N invokes) and
``second`` (2N invokes); ``(second - first) / N`` is one inference with the loop and marker
overhead differenced away. With one runtime thread the count is the inference thread's own
instructions (the plugin counts per guest thread) and is deterministic: same inputs, same code
path, no timing. Counts that once differed run to run most likely came from a numpy/OpenBLAS worker thread
still spinning while the regions ran (its spin is timed, so its instructions were not fixed):
the guest now starts no BLAS threads and the plugin leaves other threads out. With
``threads`` > 1 the count sums every thread, the pool's spin-waits included, so it varies a
little. The guest's environment is fixed (its size moves the stack, and with it alignments),
and qemu runs under ``setarch -R`` where the host allows it, so buffers land at the same
addresses run to run.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from edgesal.bench.arm_sysroot import PYTHON, Sysroot
from edgesal.bench.artefact import Artefact
from edgesal.bench.bundle import build_bundle
from edgesal.bench.devices.base import last_line, run_process
from edgesal.bench.qemu.cores import Core, core_root
from edgesal.bench.qemu.plugin import ensure_plugin, find_plugin_qemu, parse_marks
from edgesal.errors import EdgesalError
from edgesal.runtimes.runner import parse_result

GUEST = Path(__file__).with_name("guest.py")


@dataclass(frozen=True)
class CountJob:
    """How to count: N (the first region; the second runs 2N), warm-up invokes, threads."""

    n: int = 1
    warmup: int = 2
    threads: int = 1
    timeout_s: float = 3600.0


def region_counts(marks: list[tuple[int, int]], index: int, n: int) -> dict:
    """Model ``index``'s two regions from the plugin's marks → per-inference count and overhead."""
    by_tag = dict(marks)
    tags = [3 * index, 3 * index + 1, 3 * index + 2]
    if any(t not in by_tag for t in tags):
        raise EdgesalError(f"the instruction counter saw no marks for model {index} (got tags {sorted(by_tag)})")
    first = by_tag[tags[1]] - by_tag[tags[0]]
    second = by_tag[tags[2]] - by_tag[tags[1]]
    per_inference = (second - first) / n
    return {"n": n, "first": first, "second": second, "per_inference": per_inference,
            "overhead": first - n * per_inference}


def _env(sysroot: Sysroot, core: Core) -> dict[str, str]:
    """The guest's whole environment: fixed, so the emulated stack starts at the same offset on any host."""
    return {"PATH": "/usr/bin:/bin", "QEMU_CPU": core.qemu_cpu, "PYTHONPATH": str(sysroot.site),
            "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0", "EDGESAL_EMULATED": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


@functools.cache
def no_aslr_prefix() -> list[str]:
    """``setarch -R`` (address-space randomisation off for the emulator) where the host has it and allows it.

    Container sandboxes may forbid the personality flag (Docker's default seccomp profile does):
    then counts run without it rather than not at all.
    """
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    allowed = subprocess.run([setarch, "-R", "true"], capture_output=True, check=False).returncode == 0
    return [setarch, "-R"] if allowed else []


def count_instructions(models: list[Artefact], core: Core, sysroot: Sysroot, job: CountJob = CountJob()) -> list[dict]:
    """One dict per model: label, core, input shape, ``per_inference`` instructions and the raw regions."""
    plugin, qemu, root = ensure_plugin(), find_plugin_qemu(), core_root(sysroot, core)
    with tempfile.TemporaryDirectory(prefix="edgesal-insn-") as tmp:
        marks_path = Path(tmp) / "marks.txt"
        guest_job = {"bundle": str(build_bundle(Path(tmp))), "models": [m.job() for m in models],
                     "threads": job.threads, "warmup": job.warmup, "n": job.n}
        argv = [*no_aslr_prefix(), qemu, "-plugin", f"{plugin},out={marks_path}", "-L", str(root),
                str(root / "usr" / "bin" / PYTHON), str(GUEST)]
        proc = run_process(argv, json.dumps(guest_job), job.timeout_s, f"qemu-aarch64 ({core.label})",
                           env=_env(sysroot, core))
        result = parse_result(proc.stdout)
        if result is None:
            why = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
            raise EdgesalError(f"instruction count on {core.label} failed ({why}): {last_line(proc.stderr)}")
        marks = parse_marks(marks_path.read_text(), all_threads=job.threads > 1) if marks_path.exists() else []
    return [{"label": info["label"], "core": core.name, "input_shape_nchw": info["input_shape_nchw"],
             **region_counts(marks, i, job.n)} for i, info in enumerate(result["models"])]
