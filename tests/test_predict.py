"""`edgesal predict` formats and `edgesal info` output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from edgesal.cli.main import main
from edgesal.models import build_model, get_spec, save_checkpoint


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    spec = get_spec("uva_tiny_readout")
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    return save_checkpoint(path, build_model(spec), spec)


@pytest.mark.parametrize("fmt, suffix", [("npy", ".npy"), ("png", ".png"), ("overlay", ".png")])
def test_predict_writes_one_map_per_image(blob_dataset, tiny_checkpoint, tmp_path, fmt, suffix):
    out = tmp_path / fmt
    assert main(["predict", str(blob_dataset / "stimuli"), "--out", str(out), "--model", str(tiny_checkpoint),
                 "--format", fmt]) == 0
    files = sorted(out.glob(f"*{suffix}"))
    assert len(files) == 16
    if fmt == "npy":
        saliency = np.load(files[0])
        assert saliency.shape == (48, 64) and abs(saliency.sum() - 1) < 1e-3  # density at image size
    else:
        img = np.asarray(Image.open(files[0]))
        assert img.shape == ((48, 64, 3) if fmt == "overlay" else (48, 64))
    assert not list(out.glob(".*.tmp"))  # no temp files left behind


def test_predict_errors(tmp_path, capsys, tiny_checkpoint):
    assert main(["predict", str(tmp_path / "nope.jpg"), "--out", str(tmp_path), "--model", str(tiny_checkpoint)]) == 2
    assert "not found" in capsys.readouterr().err
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    assert main(["predict", str(tmp_path / "bad.jpg"), "--out", str(tmp_path / "o"), "--model", str(tiny_checkpoint)]) == 2
    assert "bad.jpg" in capsys.readouterr().err


def test_info_json(tiny_checkpoint, capsys):
    assert main(["info", "--model", str(tiny_checkpoint), "--imgsz", "64", "64", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["architecture"] == "uva_tiny_readout" and facts["output_kind"] == "log_density"
    assert facts["params"] > 0 and facts["flops"] > 0 and len(facts["sha256"]) == 64
