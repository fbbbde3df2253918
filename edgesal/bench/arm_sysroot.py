"""Build (once, cached) an arm64 Debian sysroot with the aarch64 runtime wheels for qemu-user.

Recipe (measured in TOOLCHAIN.md): ``debootstrap --foreign --arch=arm64 --variant=minbase
--include=python3 bookworm``, then ``dpkg -x`` every downloaded .deb (no second stage, so
no binfmt or chroot is needed), then ``pip install --target`` the aarch64 wheels of the
host's numpy / onnxruntime / ai-edge-litert versions, then a fake ARM ``/proc/cpuinfo``
(without it onnxruntime and LiteRT crash). Run with ``QEMU_CPU=neoverse-n1`` (the default
``max`` CPU model gives wrong XNNPACK int8 results).

Idempotent and safe to call from parallel test workers (a file lock; the build goes to a
``.partial`` folder renamed into place when it verifies). Needs root (or ``fakeroot``),
``debootstrap``, ``qemu-user-static`` and network on first use.

    python -m edgesal.bench.arm_sysroot [--cache DIR] [--force]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from edgesal.bench.filelock import file_lock
from edgesal.errors import EdgesalError

SUITE = "bookworm"  # Debian 12: python3.11, matching the cp311 wheels
PYTHON = "python3.11"
QEMU_CPU = "neoverse-n1"
WHEELS = ("numpy", "onnxruntime", "ai-edge-litert")  # pinned to the host's installed versions
WHEEL_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux_2_27_aarch64", "manylinux_2_17_aarch64",
                   "manylinux2014_aarch64")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
STAMP = "edgesal-sysroot.json"
_UNUSED = ("debootstrap", "var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man",
           "usr/share/locale", "usr/share/info")
#: a Neoverse-N1 core as the kernel prints it (NEON, fp16, dot-product; no i8mm/SVE).
FAKE_CPUINFO = "".join(
    f"processor\t: {i}\nBogoMIPS\t: 50.00\n"
    "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n"
    "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n"
    for i in range(4)
)


class SysrootError(EdgesalError):
    """The sysroot cannot be built here (missing tool, no root, offline): tests skip with this."""


@dataclass(frozen=True)
class Sysroot:
    cache: Path
    qemu: str

    @property
    def root(self) -> Path:
        return self.cache / "root"

    @property
    def site(self) -> Path:
        return self.cache / "site"

    @property
    def python(self) -> Path:
        return self.root / "usr" / "bin" / PYTHON

    def info(self) -> dict:
        return json.loads((self.cache / STAMP).read_text())


def default_cache() -> Path:
    """``$EDGESAL_AARCH64_SYSROOT``, else ``$XDG_CACHE_HOME/edgesal/aarch64`` (``~/.cache``)."""
    if os.environ.get("EDGESAL_AARCH64_SYSROOT"):
        return Path(os.environ["EDGESAL_AARCH64_SYSROOT"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgesal" / "aarch64"


def wheel_pins() -> list[str]:
    """``name==version`` of the host's installed runtime wheels (same versions → comparable parity)."""
    pins = []
    for name in WHEELS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def _recipe() -> dict:
    return {"suite": SUITE, "python": PYTHON, "wheels": wheel_pins(), "qemu_cpu": QEMU_CPU}


def find_qemu() -> str:
    qemu = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
    if not qemu:
        raise SysrootError("qemu-aarch64 not found: apt-get install qemu-user-static")
    return qemu


def find_sysroot(cache: str | Path | None = None) -> Sysroot | None:
    """The built sysroot if it exists and matches the current recipe (wheel versions)."""
    cache = Path(cache) if cache else default_cache()
    stamp = cache / STAMP
    if not stamp.exists():
        return None
    try:
        recorded = json.loads(stamp.read_text())
    except json.JSONDecodeError:
        return None
    if {k: recorded.get(k) for k in _recipe()} != _recipe():
        return None
    return Sysroot(cache, find_qemu())


def _run(argv: list[str], what: str, timeout_s: float = 900, env: dict | None = None) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env=env)
    except FileNotFoundError:
        raise SysrootError(f"{what}: {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise SysrootError(f"{what}: timed out after {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        raise SysrootError(f"{what} failed: {lines[-1].strip() if lines else f'exit {proc.returncode}'}")
    return proc.stdout


def _debootstrap(root: Path) -> None:
    debootstrap = shutil.which("debootstrap") or ("/usr/sbin/debootstrap" if Path("/usr/sbin/debootstrap").exists()
                                                   else None)
    if not debootstrap:
        raise SysrootError("debootstrap not found: apt-get install debootstrap")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("fakeroot"):
            raise SysrootError("debootstrap needs root (or fakeroot): run as root or apt-get install fakeroot")
        prefix = ["fakeroot"]
    keyring = [f"--keyring={KEYRING}"] if KEYRING.exists() else []
    mirror = os.environ.get("EDGESAL_DEBIAN_MIRROR", DEFAULT_MIRROR)
    _run([*prefix, debootstrap, "--foreign", "--arch=arm64", "--variant=minbase", "--include=python3", *keyring,
          SUITE, str(root), mirror], "debootstrap (arm64 packages; needs network)")


def _extract_debs(root: Path) -> None:
    debs = sorted((root / "var" / "cache" / "apt" / "archives").glob("*.deb"))
    if not debs:
        raise SysrootError("debootstrap downloaded no packages")
    for deb in debs:
        _run(["dpkg-deb", "-x", str(deb), str(root)], f"dpkg-deb -x {deb.name}")
        deb.unlink()  # the extracted tree is all qemu needs
    for unused in _UNUSED:  # package lists, docs, translations: ~100 MB nobody reads here
        shutil.rmtree(root / unused, ignore_errors=True)


def _install_wheels(site: Path) -> None:
    platforms = [arg for p in WHEEL_PLATFORMS for arg in ("--platform", p)]
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts",
          "--target", str(site), "--only-binary=:all:", "--implementation", "cp", "--python-version", "311",
          *platforms, *wheel_pins()], "pip install of the aarch64 wheels (needs network)")


def _write_cpuinfo(root: Path) -> None:
    (root / "proc").mkdir(exist_ok=True)
    (root / "proc" / "cpuinfo").write_text(FAKE_CPUINFO)


def _verify(sysroot: Sysroot) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "QEMU_CPU": QEMU_CPU, "PYTHONPATH": str(sysroot.site),
           "PYTHONNOUSERSITE": "1"}
    _run([sysroot.qemu, "-L", str(sysroot.root), str(sysroot.python), "-c",
          "import numpy, onnxruntime; from ai_edge_litert.interpreter import Interpreter"],
         "import check of the runtimes under qemu", timeout_s=300, env=env)


def _timed(step: Callable[[], None], timings: dict, name: str, log: Callable[[str], None]) -> None:
    log(f"aarch64 sysroot: {name} …")
    t0 = time.perf_counter()
    step()
    timings[name] = round(time.perf_counter() - t0, 1)


def ensure_sysroot(cache: str | Path | None = None, force: bool = False,
                   log: Callable[[str], None] | None = None) -> Sysroot:
    """The cached sysroot, built first if missing or stale (raises :class:`SysrootError`)."""
    cache = Path(cache) if cache else default_cache()
    log = log or (lambda msg: print(msg, file=sys.stderr))
    qemu = find_qemu()
    if not force and (found := find_sysroot(cache)):
        return found
    with file_lock(cache.with_name(cache.name + ".lock")):
        if not force and (found := find_sysroot(cache)):  # built by a parallel worker meanwhile
            return found
        work = cache.with_name(cache.name + ".partial")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        partial = Sysroot(work, qemu)
        timings: dict[str, float] = {}
        try:
            _timed(lambda: _debootstrap(partial.root), timings, "debootstrap", log)
            _timed(lambda: _extract_debs(partial.root), timings, "extract", log)
            _timed(lambda: _install_wheels(partial.site), timings, "wheels", log)
            _write_cpuinfo(partial.root)
            _timed(lambda: _verify(partial), timings, "verify", log)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        (work / STAMP).write_text(json.dumps({**_recipe(), "seconds": timings,
                                              "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2))
        shutil.rmtree(cache, ignore_errors=True)
        os.replace(work, cache)
        log(f"aarch64 sysroot ready in {cache} ({sum(timings.values()):.0f} s: {timings})")
    return Sysroot(cache, qemu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help=f"sysroot folder (default: {default_cache()})")
    parser.add_argument("--force", action="store_true", help="rebuild even if a matching sysroot exists")
    args = parser.parse_args(argv)
    try:
        sysroot = ensure_sysroot(args.cache, force=args.force)
    except EdgesalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"sysroot": str(sysroot.cache), **sysroot.info()}, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
