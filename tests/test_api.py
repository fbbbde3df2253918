"""The Python API (docs/api.md): ``import edgesal`` stays light, and every example on that page runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shared_paths import SHARED

import edgesal

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"
HEAVY = ("torch", "onnxruntime", "openvino", "tensorflow", "litert_torch", "ai_edge_litert", "jax", "nncf")
PHOTO = ROOT / "edgesal" / "assets" / "calibration" / "images" / "osie_1001.jpg"


def _python(code: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_import_edgesal_is_light():
    code = ("import sys, edgesal\n"
            "api = (edgesal.load, edgesal.predict, edgesal.evaluate, edgesal.crop, edgesal.__version__)\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"import edgesal imported {done.stdout.strip()}"


def test_the_api_names_are_public():
    assert set(edgesal.__all__) >= {"load", "predict", "export", "evaluate", "crop"}
    assert callable(edgesal.export) and edgesal.export.ExportRequest is not None  # the package, callable


def test_bad_model_name_is_a_one_line_error():
    from edgesal.errors import EdgesalError

    with pytest.raises(EdgesalError, match="unknown model 'fsat'; did you mean 'fast'"):
        edgesal.load("fsat")


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_docs_have_an_example_per_job():
    text = "\n".join(_blocks())
    for call in ("edgesal.predict(", "edgesal.load(", "edgesal.crop(", "edgesal.export(", "edgesal.evaluate("):
        assert call in text, f"docs/api.md has no example of {call}"


@pytest.mark.slow
def test_docs_api_examples_run(tmp_path):
    """All blocks in order, one interpreter, in a folder with ``photo.jpg`` (as the page says)."""
    shutil.copyfile(PHOTO, tmp_path / "photo.jpg")
    blocks = _blocks()
    skipped = [b for b in blocks if "# needs: osie" in b and not (SHARED / "data" / "osie").exists()]
    script = "\n".join(b for b in blocks if b not in skipped)
    done = _python(script, cwd=tmp_path, timeout=900)
    assert done.returncode == 0, f"docs/api.md examples failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    assert (tmp_path / "photo_overlay.png").is_file() and (tmp_path / "photo_9x16.png").is_file()
    assert (tmp_path / "runs" / "export" / "fast_int8.onnx").is_file()
    assert "log_density [192, 256]" in done.stdout
    if skipped:
        pytest.skip("the evaluate example needs ../shared (OSIE); the other examples ran")
