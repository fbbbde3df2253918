"""``qemu-aarch64``: the aarch64 LiteRT / onnxruntime wheels under qemu-user, for ARM parity.

Timings are emulated (a JIT-translated CPU): reported, marked ``emulated``, and never
compared with an FPS target; memory is not measured. The sysroot is built once into a
cache folder (:mod:`edgesal.bench.arm_sysroot`).
"""

from __future__ import annotations

import os
import subprocess

from edgesal.bench.arm_sysroot import QEMU_CPU, ensure_sysroot
from edgesal.bench.devices.base import DeviceOptions, RunnerDevice, run_process


class QemuAarch64Device(RunnerDevice):
    kind = "qemu-aarch64"
    emulated = True

    def __init__(self, address: str, options: DeviceOptions):
        super().__init__(address, options)
        self.sysroot = ensure_sysroot(options.qemu_cache)

    def _python(self) -> list[str]:
        return [self.sysroot.qemu, "-L", str(self.sysroot.root), str(self.sysroot.python)]

    def _execute(self, argv: list[str], stdin: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "QEMU_"))}
        env.update(QEMU_CPU=QEMU_CPU, PYTHONPATH=str(self.sysroot.site), PYTHONNOUSERSITE="1",
                   EDGESAL_EMULATED="1")
        return run_process(argv, stdin, self.options.timeout_s, self.name, env=env)

    def describe(self) -> dict:
        return {**super().describe(), "qemu_cpu": QEMU_CPU, "sysroot": str(self.sysroot.root)}
