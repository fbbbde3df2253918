"""Named ARM cores as XNNPACK sees them: a qemu CPU model (the ``AT_HWCAP`` bits) and a fake
``/proc/cpuinfo`` (the MIDR that picks core-tuned kernels, and the Features line).

XNNPACK (through the cpuinfo library) reads the CPU part from ``/proc/cpuinfo`` and the ISA
features from the hardware capabilities, so each core gets both: an A53 without dot-product or
fp16 arithmetic, an A55 (r1) and an A76 with them. qemu 7.2 has no Cortex-A55 model; its
``cortex-a76`` model has the same user-visible ARMv8.2 features (dotprod, fp16, rdm, lrcpc).
Each core runs in an overlay of the cached sysroot: symlinks to its folders plus its own
``proc/cpuinfo``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from edgesal.bench.arm_sysroot import Sysroot
from edgesal.bench.filelock import file_lock
from edgesal.errors import EdgesalError

_V80 = "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"
_V82 = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"


@dataclass(frozen=True)
class Core:
    name: str  # short name on the command line
    label: str  # as printed in tables
    qemu_cpu: str
    part: int  # MIDR part number (0xd03 = Cortex-A53, …)
    variant: int  # MIDR variant (rN): A55 needs r1 for dot-product
    features: str

    def cpuinfo(self, cpus: int = 4) -> str:
        return "".join(
            f"processor\t: {i}\nBogoMIPS\t: 50.00\nFeatures\t: {self.features}\nCPU implementer\t: 0x41\n"
            f"CPU architecture: 8\nCPU variant\t: {self.variant:#x}\nCPU part\t: {self.part:#05x}\n"
            "CPU revision\t: 0\n\n" for i in range(cpus))


CORES: dict[str, Core] = {c.name: c for c in (
    Core("a53", "Cortex-A53", "cortex-a53", 0xD03, 0x0, _V80),
    Core("a55", "Cortex-A55", "cortex-a76", 0xD05, 0x1, _V82),
    Core("a76", "Cortex-A76", "cortex-a76", 0xD0B, 0x4, _V82),
)}


def get_core(name: str) -> Core:
    key = name.lower().removeprefix("cortex-")
    if key not in CORES:
        raise EdgesalError(f"unknown core {name!r} (cores: {', '.join(CORES)})")
    return CORES[key]


def core_root(sysroot: Sysroot, core: Core) -> Path:
    """``<sysroot cache>/cores/<name>``: the sysroot's folders (symlinked) + this core's cpuinfo."""
    root = sysroot.cache / "cores" / core.name
    cpuinfo = core.cpuinfo()
    if (root / "proc" / "cpuinfo").is_file() and (root / "proc" / "cpuinfo").read_text() == cpuinfo:
        return root
    with file_lock(sysroot.cache / "cores.lock"):
        work = root.with_name(root.name + ".partial")
        shutil.rmtree(work, ignore_errors=True)
        (work / "proc").mkdir(parents=True)
        for entry in sysroot.root.iterdir():
            if entry.name != "proc":
                os.symlink(entry.resolve() if not entry.is_symlink() else os.readlink(entry), work / entry.name)
        (work / "proc" / "cpuinfo").write_text(cpuinfo)
        shutil.rmtree(root, ignore_errors=True)
        os.replace(work, root)
    return root
