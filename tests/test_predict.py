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
    assert main(["predict", str(tmp_path / "bad.jpg"), "--out", str(tmp_path / "o"),
                 "--model", str(tiny_checkpoint)]) == 2
    assert "bad.jpg" in capsys.readouterr().err


def test_info_json(tiny_checkpoint, capsys):
    assert main(["info", "--model", str(tiny_checkpoint), "--imgsz", "64", "64", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["architecture"] == "uva_tiny_readout" and facts["output_kind"] == "log_density"
    assert facts["params"] > 0 and facts["flops"] > 0 and len(facts["sha256"]) == 64


def test_predict_into_own_subfolder_twice_reads_no_maps(blob_dataset, tiny_checkpoint, tmp_path, capsys):
    import shutil

    src = tmp_path / "imgs"
    shutil.copytree(blob_dataset / "stimuli", src)
    inputs = {p.name: p.read_bytes() for p in src.glob("*.png")}
    for _ in range(2):  # the second run must not predict maps of the first run's maps
        assert main(["predict", str(src), "--out", str(src / "maps"), "--model", str(tiny_checkpoint)]) == 0
        assert "wrote 16 map(s)" in capsys.readouterr().out
    assert sorted(p.name for p in (src / "maps").rglob("*.png")) == sorted(inputs)
    assert {p.name: p.read_bytes() for p in src.glob("*.png")} == inputs  # inputs untouched


def test_predict_several_sources(blob_dataset, tiny_checkpoint, tmp_path):
    stimuli = blob_dataset / "stimuli"
    out = tmp_path / "maps"
    assert main(["predict", str(stimuli / "img00.png"), str(stimuli / "img01.png"), "--out", str(out),
                 "--model", str(tiny_checkpoint), "--format", "npy"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["img00.npy", "img01.npy"]


def test_predict_partial_run_writes_good_maps(blob_dataset, tiny_checkpoint, tmp_path, capsys):
    import shutil

    src = tmp_path / "imgs"
    shutil.copytree(blob_dataset / "stimuli", src)
    (src / "zz_truncated.png").write_bytes((src / "img00.png").read_bytes()[:100])
    rc = main(["predict", str(src), "--out", str(tmp_path / "o"), "--model", str(tiny_checkpoint)])
    err = capsys.readouterr().err
    assert rc == 3 and "skipped" in err and "zz_truncated.png" in err
    assert len(list((tmp_path / "o").glob("*.png"))) == 16
