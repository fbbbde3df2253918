"""Measure the installed size and package count of edgesal's core and of each pip extra.

Each variant is installed the way the README says, into a throwaway venv (removed after it
is measured): ``pip install -c constraints.txt torch==<pinned> "edgesal[EXTRA]"`` from a wheel
built from this checkout. Size = bytes under the venv minus a bare venv's; packages = installed
distributions other than pip/setuptools and edgesal itself. Also checks that no converter
package (litert-torch, jax, TensorFlow, OpenVINO, NNCF, onnxscript) is in the core install.

    python scripts/install_sizes.py                        # core + every export extra, Markdown table
    python scripts/install_sizes.py --extras core tflite --json sizes.json

Needs network access to PyPI (or a pip cache / wheel folder) and a few GB of free disk.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
EXTRAS = ("core", "onnx", "tflite", "openvino", "export")
CONVERTERS = {"litert-torch", "jax", "jaxlib", "tensorflow", "tf-keras", "openvino", "nncf", "onnxscript",
              "transformers"}
OWN = {"pip", "setuptools", "wheel", "edgesal"}


def _run(cmd: list[str], **kw) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode:
        sys.exit(f"error: {' '.join(map(str, cmd[:6]))} … failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def _pinned(name: str) -> str:
    """``name==version`` from constraints.txt."""
    match = re.search(rf"^{re.escape(name)}==(\S+)$", CONSTRAINTS.read_text(), flags=re.M)
    if not match:
        sys.exit(f"error: {name} is not pinned in {CONSTRAINTS}")
    return f"{name}=={match[1]}"


def build_wheel(work: Path) -> Path:
    """edgesal's wheel, built from this checkout as tests/test_packaging.py builds it."""
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work), str(ROOT)])
    return next(work.glob("edgesal-*.whl"))


def _venv(path: Path) -> Path:
    _run([sys.executable, "-m", "venv", str(path)])
    return path / "bin" / "python"


def measure(extra: str, wheel: Path, work: Path, bare_bytes: int) -> dict:
    """Install one variant into a fresh venv; its size, packages and time."""
    env_dir = work / f"venv-{extra}"
    python = _venv(env_dir)
    target = str(wheel) if extra == "core" else f"{wheel}[{extra}]"
    start = time.perf_counter()
    _run([str(python), "-m", "pip", "install", "-q", "-c", str(CONSTRAINTS), _pinned("torch"), target])
    seconds = time.perf_counter() - start
    listed = json.loads(_run([str(python), "-m", "pip", "list", "--format=json"]))
    names = sorted(p["name"].lower().replace("_", "-") for p in listed)
    packages = [n for n in names if n not in OWN]
    size = _bytes(env_dir) - bare_bytes
    shutil.rmtree(env_dir)
    return {"extra": extra, "mb": round(size / 1e6), "packages": len(packages), "install_s": round(seconds),
            "converters": sorted(CONVERTERS & set(packages)), "names": packages}


def markdown(rows: list[dict]) -> str:
    core = next((r for r in rows if r["extra"] == "core"), None)
    lines = ["| install | size (MB) | packages | over core | converter packages |", "|---|---|---|---|---|"]
    for r in rows:
        spec = "`pip install edgesal`" if r["extra"] == "core" else f"`pip install 'edgesal[{r['extra']}]'`"
        over = "—" if core is None or r is core else f"+{r['mb'] - core['mb']} MB, +{r['packages'] - core['packages']}"
        lines.append(f"| {spec} | {r['mb']} | {r['packages']} | {over} | {', '.join(r['converters']) or '—'} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extras", nargs="+", default=list(EXTRAS), choices=EXTRAS)
    parser.add_argument("--work", type=Path, help="folder for the throwaway venvs (default: a temp folder)")
    parser.add_argument("--json", type=Path, help="also write the rows (with package names) here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edgesal-sizes-", dir=args.work))
    try:
        wheel = build_wheel(work)
        bare = _bytes(_venv(work / "bare").parents[1])
        rows = []
        for extra in args.extras:
            rows.append(measure(extra, wheel, work, bare))
            print(f"{extra}: {rows[-1]['mb']} MB, {rows[-1]['packages']} packages", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    core = next((r for r in rows if r["extra"] == "core"), None)
    if core and core["converters"]:
        sys.exit(f"error: converter packages in the core install: {', '.join(core['converters'])}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
