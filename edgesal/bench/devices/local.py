"""``local``: this machine's CPU (x86 or ARM), the runner in a child process of this Python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import edgesal
from edgesal.bench.devices.base import RunnerDevice, run_process

#: the checkout holding ``edgesal`` (so the runner's torch runtime imports it without an install)
_EDGESAL_ROOT = str(Path(edgesal.__file__).resolve().parents[1])


class LocalDevice(RunnerDevice):
    """Runs each job in a fresh ``python runner.py`` (clean peak-RSS, crash isolation)."""

    kind = "local"

    def _python(self) -> list[str]:
        return [sys.executable]

    def _extra_job(self) -> dict:
        return {"sys_path": [_EDGESAL_ROOT]}

    def _execute(self, argv: list[str], stdin: str) -> subprocess.CompletedProcess:
        return run_process(argv, stdin, self.options.timeout_s, self.name)
