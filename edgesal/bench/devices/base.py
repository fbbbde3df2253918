"""The device interface, and the common part of devices that run the runner bundle with a Python."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from edgesal.bench.artefact import Artefact
from edgesal.bench.bundle import BUNDLE_NAME, build_bundle
from edgesal.errors import EdgesalError
from edgesal.runtimes.runner import decode_maps, parse_result


@dataclass(frozen=True)
class DeviceOptions:
    """Settings some device kinds use (the others ignore them)."""

    ssh_key: str | None = None  # ssh: identity file
    remote_python: str | None = None  # ssh, adb: the device's Python (numpy + a runtime wheel); default python3
    benchmark_binary: str | None = None  # adb: a local TFLite benchmark_model build for the phone
    delegate: str = "xnnpack"  # adb: benchmark_model's delegate (xnnpack, gpu, nnapi)
    qemu_cache: str | None = None  # qemu-aarch64: sysroot cache folder
    timeout_s: float = 1800.0  # one runner call


@dataclass(frozen=True)
class BenchJob:
    """What to time: models × thread counts, runs after warm-up, on one input."""

    models: list[Artefact]
    threads: list[int]
    runs: int
    warmup: int
    #: model label → {"kind": "random", "seed", "mean", "std"} or {"kind": "npy", "path": host file}
    inputs: dict[str, dict]


class Device(ABC):
    """Somewhere models run. ``kind`` is the ``--device`` prefix; ``address`` what follows ``:``."""

    kind: ClassVar[str]
    #: timings come from an emulator: never compared with an FPS target.
    emulated: ClassVar[bool] = False
    #: whether ``address`` is required (``ssh:…``, ``adb:…``) or forbidden (``local``).
    needs_address: ClassVar[bool] = False
    #: whether :meth:`outputs` works (output maps → parity checks).
    supports_outputs: ClassVar[bool] = True

    def __init__(self, address: str, options: DeviceOptions):
        self.address = address
        self.options = options
        self._tmp: Path | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.address}" if self.address else self.kind

    @property
    def tmp(self) -> Path:
        """A host temp folder for this device's files (removed by :meth:`close`)."""
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix=f"edgesal-{self.kind}-"))
        return self._tmp

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def describe(self) -> dict:
        """CPU model, cores, ISA flags, OS, library versions."""

    @abstractmethod
    def bench(self, job: BenchJob) -> list[dict]:
        """One dict per (model, threads): ``latencies_ms`` (raw samples) or ``stats`` (a summary)."""

    def memory(self, job: BenchJob, model: Artefact) -> dict | None:
        """Peak RSS of a process running only ``model`` (None where not measurable)."""
        return None

    def outputs(self, model: Artefact, inputs: np.ndarray) -> np.ndarray:
        """Output maps (N, H, W) of ``model`` for preprocessed NCHW ``inputs``."""
        raise EdgesalError(f"{self.name} cannot return output maps (no parity check there)")


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


class RunnerDevice(Device):
    """A device that runs the runner bundle (:mod:`edgesal.bench.bundle`: the runtime layer,
    zipped) with a Python: subclasses say how to copy and execute."""

    def __init__(self, address: str, options: DeviceOptions):
        super().__init__(address, options)
        self._staged: dict[Path, str] = {}

    @abstractmethod
    def _python(self) -> list[str]:
        """argv prefix that runs a Python script on the device."""

    @abstractmethod
    def _execute(self, argv: list[str], stdin: str) -> subprocess.CompletedProcess:
        """Run ``argv`` on the device with ``stdin``; return the completed process (text)."""

    def _copy(self, files: list[Path]) -> str:
        """Make ``files`` (a model and its companions) visible on the device; device path of the first."""
        return str(files[0].resolve())

    def _extra_job(self) -> dict:
        return {}

    @property
    def bundle(self) -> Path:
        """The runner bundle, built once per device in its temp folder."""
        path = self.tmp / BUNDLE_NAME
        return path if path.exists() else build_bundle(self.tmp)

    def stage(self, files: list[Path]) -> str:
        key = files[0].resolve()
        if key not in self._staged:
            self._staged[key] = self._copy(files)
        return self._staged[key]

    def call(self, job: dict) -> dict:
        """Run the runner with ``job``; its result, or a one-line EdgesalError."""
        argv = [*self._python(), self.stage([self.bundle])]
        proc = self._execute(argv, json.dumps({**job, **self._extra_job()}))
        result = parse_result(proc.stdout)
        if result is None:
            why = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
            raise EdgesalError(f"{self.name}: runner failed ({why}): {last_line(proc.stderr or proc.stdout)}")
        if "error" in result:
            raise EdgesalError(f"{self.name}: {result['error']}")
        return result

    def _models(self, models: list[Artefact], inputs: dict[str, dict] | None = None) -> list[dict]:
        jobs = []
        for m in models:
            job = m.job(self.stage(m.files) if m.is_file else None)
            spec = (inputs or {}).get(m.label)
            if spec and spec.get("kind") == "npy":
                spec = {**spec, "path": self.stage([Path(spec["path"])])}
            jobs.append({**job, "input": spec} if spec else job)
        return jobs

    def _job(self, mode: str, job: BenchJob, models: list[Artefact]) -> dict:
        return {"mode": mode, "models": self._models(models, job.inputs), "threads": job.threads,
                "runs": job.runs, "warmup": job.warmup}

    def describe(self) -> dict:
        return self.call({"mode": "describe"})["device"]

    def bench(self, job: BenchJob) -> list[dict]:
        return self.call(self._job("bench", job, job.models))["results"]

    def memory(self, job: BenchJob, model: Artefact) -> dict | None:
        if self.emulated:
            return None
        return self.call(self._job("memory", job, [model]))

    def outputs(self, model: Artefact, inputs: np.ndarray) -> np.ndarray:
        path = self.tmp / f"inputs-{len(self._staged)}.npy"
        np.save(path, np.asarray(inputs, dtype=np.float32))
        result = self.call({"mode": "outputs", "models": self._models([model]), "threads": [1],
                            "inputs_npy": self.stage([path])})
        return decode_maps(result)


def run_process(argv: list[str], stdin: str | None, timeout_s: float, what: str,
                env: dict | None = None) -> subprocess.CompletedProcess:
    """``subprocess.run`` with text I/O; a missing program or a timeout → one-line EdgesalError."""
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout_s, env=env)
    except FileNotFoundError:
        raise EdgesalError(f"{what}: program not found: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise EdgesalError(f"{what}: no answer within {timeout_s:.0f} s ({Path(argv[0]).name})") from None
