"""The instruction-counting TCG plugin (``insn_count.c``): built with gcc on first use into a
cache folder, loaded by Debian's dynamic ``qemu-aarch64`` (``qemu-user``; the static build
cannot load plugins)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from edgesal.bench.arm_sysroot import SysrootError

SOURCE = Path(__file__).with_name("insn_count.c")
#: the guest's marker: ``lseek(-1, MARK_MAGIC << 32 | tag, 0)`` (aarch64 syscall 62, fails with EBADF).
MARK_MAGIC = 0x45444753
MARK_SYSCALL = 62


class QemuPluginError(SysrootError):
    """No plugin-capable qemu or no C compiler here (tests skip with this)."""


def find_plugin_qemu() -> str:
    """The dynamic ``qemu-aarch64`` (plugins need it; ``qemu-aarch64-static`` cannot load them)."""
    qemu = shutil.which("qemu-aarch64")
    if not qemu:
        raise QemuPluginError("qemu-aarch64 (dynamic) not found: apt-get install qemu-user "
                              "(qemu-user-static cannot load plugins)")
    return qemu


def plugin_cache() -> Path:
    """``$XDG_CACHE_HOME/edgesal/qemu-plugin`` (``~/.cache``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgesal" / "qemu-plugin"


def ensure_plugin(cache: str | Path | None = None) -> Path:
    """``insn_count-<hash>.so`` for the current source, compiled first if missing."""
    cache = Path(cache) if cache else plugin_cache()
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    target = cache / f"insn_count-{digest}.so"
    if target.exists():
        return target
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise QemuPluginError("no C compiler to build the qemu plugin: apt-get install gcc")
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".insn_count.", suffix=".so", dir=cache)
    os.close(fd)
    try:
        proc = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", tmp, str(SOURCE)], capture_output=True, text=True)
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            raise QemuPluginError(f"building the qemu plugin failed: {lines[-1] if lines else proc.returncode}")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def parse_marks(text: str, all_threads: bool = False) -> list[tuple[int, int]]:
    """``(tag, count)`` of each ``mark TAG SELF ALL`` line the plugin wrote, in order.

    ``count`` is the marking thread's own instructions (exact and deterministic: what a
    single-threaded inference executes), or with ``all_threads`` the sum over every guest
    thread (what a multi-threaded runtime executes, spin-waits of its pool included).
    """
    marks = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "mark":
            marks.append((int(parts[1]), int(parts[3] if all_threads else parts[2])))
    return marks
