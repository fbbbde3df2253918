"""``adb:SERIAL``: an Android phone, timed with a user-supplied TFLite ``benchmark_model``.

No Python runs on the phone: the model and the ``benchmark_model`` binary (an Android
arm64 build; ``--benchmark-binary`` or ``$EDGESAL_BENCHMARK_MODEL``) are pushed to
``/data/local/tmp/edgesal-…`` and the binary's printed statistics are parsed
(:mod:`edgesal.bench.benchmark_model`). Consequences: ``.tflite`` only; models alternate
per invocation (A B per thread count), not per run; no p90/p99 (the tool prints p5, median,
p95 — median falls back to the mean on old builds); no output maps, hence no parity.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from pathlib import Path

from edgesal.bench.artefact import Artefact
from edgesal.bench.benchmark_model import parse_benchmark_output
from edgesal.bench.devices.base import BenchJob, Device, DeviceOptions, last_line, run_process
from edgesal.errors import EdgesalError
from edgesal.runtimes.device_info import parse_cpuinfo

REMOTE_ROOT = "/data/local/tmp"
_PROPS = {"manufacturer": "ro.product.manufacturer", "model": "ro.product.model",
          "android": "ro.build.version.release", "sdk": "ro.build.version.sdk", "abi": "ro.product.cpu.abi",
          "soc": "ro.soc.model"}


class AdbDevice(Device):
    kind = "adb"
    needs_address = True
    supports_outputs = False  # benchmark_model prints timings only

    def __init__(self, address: str, options: DeviceOptions):
        super().__init__(address, options)
        self.adb = shutil.which("adb")
        if not self.adb:
            raise EdgesalError("adb not found: install Android platform-tools (Debian/Ubuntu: apt-get install adb)")
        binary = options.benchmark_binary or os.environ.get("EDGESAL_BENCHMARK_MODEL")
        if not binary:
            raise EdgesalError("adb devices need a TFLite benchmark_model binary for Android: pass "
                               "--benchmark-binary PATH or set EDGESAL_BENCHMARK_MODEL (see docs/device.md)")
        if not Path(binary).is_file():
            raise EdgesalError(f"benchmark_model binary not found: {binary}")
        self.binary = Path(binary)
        state = self._adb("get-state")
        if state.returncode != 0 or state.stdout.strip() != "device":
            raise EdgesalError(f"{self.name} not reachable: {last_line(state.stderr or state.stdout)}")
        self.remote_dir = f"{REMOTE_ROOT}/edgesal-{uuid.uuid4().hex[:8]}"
        self._remote_binary: str | None = None
        self._pushed: dict[str, str] = {}
        self._memory: dict[str, dict] = {}

    def _adb(self, *args: str) -> subprocess.CompletedProcess:
        return run_process([self.adb, "-s", self.address, *args], None, self.options.timeout_s, self.name)

    def _shell(self, command: str) -> str:
        proc = self._adb("shell", command)
        if proc.returncode != 0:
            raise EdgesalError(f"{self.name}: '{command.split()[0]}' failed: {last_line(proc.stderr or proc.stdout)}")
        return proc.stdout

    def _push(self, local: Path) -> str:
        if str(local) not in self._pushed:
            self._shell(f"mkdir -p {self.remote_dir}")
            remote = f"{self.remote_dir}/{len(self._pushed)}_{local.name}"
            proc = self._adb("push", str(local), remote)
            if proc.returncode != 0:
                raise EdgesalError(f"{self.name}: adb push {local.name} failed: {last_line(proc.stderr)}")
            self._pushed[str(local)] = remote
        return self._pushed[str(local)]

    @property
    def remote_binary(self) -> str:
        if self._remote_binary is None:
            self._remote_binary = self._push(self.binary)
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
        }
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
                graph = self._push(Path(model.path))
                output = self._shell(f"{self.remote_binary} --graph={graph} --num_threads={threads} "
                                     f"--num_runs={job.runs} --warmup_runs={job.warmup} --use_xnnpack=true")
                parsed = parse_benchmark_output(output)
                if "memory" in parsed:
                    self._memory.setdefault(model.label, parsed["memory"])
                results.append({"model": model.label, "runtime": "litert", "threads": threads,
                                "tool": "benchmark_model", **parsed})
        return results

    def memory(self, job: BenchJob, model: Artefact) -> dict | None:
        mem = self._memory.get(model.label)
        if not mem:
            return None
        peak = mem.get("peak_mb", mem.get("overall_mb"))
        return {"model": model.label, "model_peak_rss_mb": peak, "source": "benchmark_model", **mem}

    def close(self) -> None:
        if self._pushed:
            with contextlib.suppress(EdgesalError):
                self._shell(f"rm -rf {self.remote_dir}")
            self._pushed.clear()
        super().close()
