"""``adb:SERIAL``: an Android phone, timed with a user-supplied TFLite ``benchmark_model``.

Timing: the model and the ``benchmark_model`` binary (an Android arm64 build;
``--benchmark-binary`` or ``$EDGESAL_BENCHMARK_MODEL``) are pushed to
``/data/local/tmp/edgesal-…`` and run with the chosen delegate (``--delegate``: ``xnnpack``
CPU threads, ``gpu``, ``nnapi``); the binary's printed statistics are parsed
(:mod:`edgesal.bench.benchmark_model`). Consequences: ``.tflite`` only; models alternate
per invocation (A B per thread count), not per run; no p90/p99 (the tool prints p5, median,
p95 — median falls back to the mean on old builds).

Parity: when the phone has a Python with numpy and a TFLite interpreter (``--remote-python``
or ``$EDGESAL_REMOTE_PYTHON``, e.g. Termux's; else ``python3`` if ``adb shell`` finds one),
the runner bundle is pushed and run there like on ``ssh`` boards (:class:`AdbRunner`), on
the CPU interpreter. Without one, parity is reported as not available.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np

from edgesal.bench.artefact import Artefact
from edgesal.bench.benchmark_model import parse_benchmark_output
from edgesal.bench.devices.base import BenchJob, Device, DeviceOptions, RunnerDevice, last_line, run_process
from edgesal.errors import EdgesalError
from edgesal.runtimes.device_info import parse_cpuinfo

REMOTE_ROOT = "/data/local/tmp"
_PROPS = {"manufacturer": "ro.product.manufacturer", "model": "ro.product.model",
          "android": "ro.build.version.release", "sdk": "ro.build.version.sdk", "abi": "ro.product.cpu.abi",
          "soc": "ro.soc.model"}
#: ``--delegate`` → benchmark_model flags
DELEGATE_FLAGS = {"xnnpack": "--use_xnnpack=true", "gpu": "--use_gpu=true", "nnapi": "--use_nnapi=true"}
DELEGATES = tuple(DELEGATE_FLAGS)
#: what the phone's Python must import for the runner (numpy and one TFLite interpreter package)
_PROBE = ("import numpy, importlib.util as u; "
          "assert any(u.find_spec(m) for m in ('ai_edge_litert', 'tflite_runtime', 'tensorflow'))")


class AdbRunner(RunnerDevice):
    """The runner bundle on the phone's Python (files pushed with the device's ``adb``)."""

    kind = "adb"
    needs_address = True

    def __init__(self, device: AdbDevice, python: str):
        super().__init__(device.address, device.options)
        self.device = device
        self.python = python

    def _python(self) -> list[str]:
        return [self.python]

    def _copy(self, files: list[Path]) -> str:
        remote = [self.device.push(f) for f in files]  # tflite models have no companions: flat names do
        return remote[0]

    def _execute(self, argv: list[str], stdin: str) -> subprocess.CompletedProcess:
        python, *args = argv  # the Python stays a shell word
        return self.device.adb("shell", " ".join([python, *map(shlex.quote, args)]), stdin=stdin)


class AdbDevice(Device):
    kind = "adb"
    needs_address = True
    supports_outputs = False  # until a Python with numpy is found on the phone (then: the runner)
    delegates = DELEGATES

    def __init__(self, address: str, options: DeviceOptions):
        super().__init__(address, options)
        self.adb_path = shutil.which("adb")
        if not self.adb_path:
            raise EdgesalError("adb not found: install Android platform-tools (Debian/Ubuntu: apt-get install adb)")
        binary = options.benchmark_binary or os.environ.get("EDGESAL_BENCHMARK_MODEL")
        if not binary:
            raise EdgesalError("adb devices need a TFLite benchmark_model binary for Android: pass "
                               "--benchmark-binary PATH or set EDGESAL_BENCHMARK_MODEL (see docs/device.md)")
        if not Path(binary).is_file():
            raise EdgesalError(f"benchmark_model binary not found: {binary}")
        self.binary = Path(binary)
        state = self.adb("get-state")
        if state.returncode != 0 or state.stdout.strip() != "device":
            raise EdgesalError(f"{self.name} not reachable: {last_line(state.stderr or state.stdout)}")
        if options.delegate not in DELEGATE_FLAGS:
            raise EdgesalError(f"unknown delegate {options.delegate!r} (adb delegates: {', '.join(DELEGATES)})")
        self.remote_dir = f"{REMOTE_ROOT}/edgesal-{uuid.uuid4().hex[:8]}"
        self._remote_binary: str | None = None
        self._pushed: dict[str, str] = {}
        self._memory: dict[str, dict] = {}
        self.runner = self._find_runner()
        self.supports_outputs = self.runner is not None

    def adb(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """``adb -s SERIAL ARGS…`` (text I/O, the device timeout)."""
        return run_process([self.adb_path, "-s", self.address, *args], stdin, self.options.timeout_s, self.name)

    def _find_runner(self) -> AdbRunner | None:
        """The runner on the phone's Python, if one with numpy and a TFLite interpreter answers."""
        python = self.options.remote_python or os.environ.get("EDGESAL_REMOTE_PYTHON", "python3")
        probe = self.adb("shell", f"{python} -c {shlex.quote(_PROBE)} 2>/dev/null && echo edgesal-python-ok")
        return AdbRunner(self, python) if "edgesal-python-ok" in (probe.stdout or "") else None

    def _shell(self, command: str) -> str:
        proc = self.adb("shell", command)
        if proc.returncode != 0:
            raise EdgesalError(f"{self.name}: '{command.split()[0]}' failed: {last_line(proc.stderr or proc.stdout)}")
        return proc.stdout

    def push(self, local: Path) -> str:
        """Copy ``local`` into this run's folder on the phone (once); its path there."""
        if str(local) not in self._pushed:
            self._shell(f"mkdir -p {self.remote_dir}")
            remote = f"{self.remote_dir}/{len(self._pushed)}_{local.name}"
            proc = self.adb("push", str(local), remote)
            if proc.returncode != 0:
                raise EdgesalError(f"{self.name}: adb push {local.name} failed: {last_line(proc.stderr)}")
            self._pushed[str(local)] = remote
        return self._pushed[str(local)]

    @property
    def remote_binary(self) -> str:
        if self._remote_binary is None:
            self._remote_binary = self.push(self.binary)
            self._shell(f"chmod 755 {self._remote_binary}")
        return self._remote_binary

    def describe(self) -> dict:
        props = {key: self._shell(f"getprop {prop}").strip() for key, prop in _PROPS.items()}
        info = {
            "machine": props["abi"], "system": "Android",
            "os": f"Android {props['android']} (SDK {props['sdk']})",
            "board": f"{props['manufacturer']} {props['model']}".strip(),
            "cores": len([ln for ln in self._shell("cat /proc/cpuinfo").splitlines() if ln.startswith("processor")]),
            "emulated": False,
            "libraries": {"benchmark_model": self.binary.name},
            "delegate": self.options.delegate,
        }
        if self.runner is not None:
            info["python"] = self.runner.python  # parity runs there
        if props["soc"]:
            info["soc"] = props["soc"]
        info.update(parse_cpuinfo(self._shell("cat /proc/cpuinfo")))
        return info

    def _check(self, model: Artefact) -> None:
        if model.runtime != "litert":
            raise EdgesalError(f"{self.name} runs .tflite models (benchmark_model); {model.label} is {model.runtime}")

    def bench(self, job: BenchJob) -> list[dict]:
        for model in job.models:
            self._check(model)
        results = []
        for threads in job.threads:
            for model in job.models:
                output = self._shell(self.benchmark_command(self.push(Path(model.path)), threads, job))
                parsed = parse_benchmark_output(output)
                if "memory" in parsed:
                    self._memory.setdefault(model.label, parsed["memory"])
                results.append({"model": model.label, "runtime": f"litert ({self.options.delegate})",
                                "threads": threads, "tool": "benchmark_model", **parsed})
        return results

    def benchmark_command(self, graph: str, threads: int, job: BenchJob) -> str:
        """The benchmark_model command line for one model, thread count and the delegate."""
        return (f"{self.remote_binary} --graph={graph} --num_threads={threads} --num_runs={job.runs} "
                f"--warmup_runs={job.warmup} {DELEGATE_FLAGS[self.options.delegate]}")

    def outputs(self, model: Artefact, inputs: np.ndarray) -> np.ndarray:
        if self.runner is None:
            return super().outputs(model, inputs)
        return self.runner.outputs(model, inputs)

    def memory(self, job: BenchJob, model: Artefact) -> dict | None:
        mem = self._memory.get(model.label)
        if not mem:
            return None
        peak = mem.get("peak_mb", mem.get("overall_mb"))
        return {"model": model.label, "model_peak_rss_mb": peak, "source": "benchmark_model", **mem}

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
        if self._pushed:
            with contextlib.suppress(EdgesalError):
                self._shell(f"rm -rf {self.remote_dir}")
            self._pushed.clear()
        super().close()
