"""The built wheel carries everything the README's main command needs (weights, cards, the
default calibration set) and works from an empty folder outside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("build", reason="needs the 'build' package (pip install -e '.[dev]')")
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [path] = out.glob("edgesal-*.whl")
    return path


def test_wheel_carries_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("edgesal/models/weights/default.pt", "edgesal/models/weights/fast.pt",
                     "edgesal/models/cards/default.md", "edgesal/assets/calibration/manifest.json",
                     "edgesal/assets/calibration/LICENSE", "edgesal/data/splits/osie.json"):
        assert required in names, required
    images = [n for n in names if n.startswith("edgesal/assets/calibration/images/") and n.endswith(".jpg")]
    assert len(images) >= 100


@pytest.mark.slow
def test_wheel_exports_from_an_empty_folder(wheel, tmp_path):
    """A fresh venv with only the wheel (dependencies borrowed from this environment's
    site-packages as a plain path: no editable install leaks in) runs the main job."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    query = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", query],
                               capture_output=True, text=True, check=True).stdout.strip())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDGESAL", "PYTHON"))}
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-compile", "--force-reinstall",
                    str(wheel)], env=env, check=True, timeout=300)
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")  # after: pip must not see edgesal there
    empty = tmp_path / "empty"
    empty.mkdir()
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import edgesal; print(edgesal.__file__)"],
                           cwd=empty, env=env, capture_output=True, text=True)
    assert where.returncode == 0, where.stderr[-3000:]
    assert str(venv) in where.stdout and str(REPO) not in where.stdout
    proc = subprocess.run([str(venv / "bin" / "edgesal"), "export", "--target", "onnx", "--int8"],
                          cwd=empty, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (empty / "runs" / "export" / "default_int8.onnx").is_file()
    assert "calibration" in (empty / "runs" / "export" / "export_report.md").read_text()
