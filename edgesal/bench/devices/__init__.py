"""``--device`` kinds: one class each behind :class:`~edgesal.bench.devices.base.Device`.

    local              this CPU (x86 or ARM)
    ssh:USER@HOST[:P]  a Linux board over ssh/scp (runner + model copied to a temp folder)
    adb:SERIAL         an Android phone, timed with a user-supplied benchmark_model
    qemu-aarch64       aarch64 wheels under qemu-user: ARM parity, emulated timings
"""

from __future__ import annotations

import difflib
import importlib

from edgesal.bench.devices.base import BenchJob, Device, DeviceOptions
from edgesal.errors import EdgesalError

#: ``--device`` prefix → "module:class" (imported on use: qemu needs no ssh, etc.)
DEVICES: dict[str, str] = {
    "local": "edgesal.bench.devices.local:LocalDevice",
    "ssh": "edgesal.bench.devices.ssh:SshDevice",
    "adb": "edgesal.bench.devices.adb:AdbDevice",
    "qemu-aarch64": "edgesal.bench.devices.qemu:QemuAarch64Device",
}


def device_class(kind: str) -> type[Device]:
    if kind not in DEVICES:
        hint = difflib.get_close_matches(kind, list(DEVICES), n=1, cutoff=0.4)
        raise EdgesalError(f"unknown device {kind!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                           + " (devices: local, ssh:USER@HOST[:PORT], adb:SERIAL, qemu-aarch64)")
    module, cls = DEVICES[kind].split(":")
    return getattr(importlib.import_module(module), cls)


def open_device(spec: str, options: DeviceOptions | None = None) -> Device:
    """``local`` / ``ssh:USER@HOST[:PORT]`` / ``adb:SERIAL`` / ``qemu-aarch64`` → a Device."""
    kind, _, address = spec.partition(":")
    cls = device_class(kind)
    if cls.needs_address and not address:
        raise EdgesalError(f"device {kind!r} needs an address: {kind}:{'USER@HOST' if kind == 'ssh' else 'SERIAL'}")
    if not cls.needs_address and address:
        raise EdgesalError(f"device {kind!r} takes no address (got {spec!r})")
    return cls(address, options or DeviceOptions())


__all__ = ["DEVICES", "BenchJob", "Device", "DeviceOptions", "device_class", "open_device"]
