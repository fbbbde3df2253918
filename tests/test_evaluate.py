"""`edgesal evaluate` end to end: baselines on real OSIE, precomputed maps, CLI errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from shared_paths import shared_or_skip
from edgesal.cli.main import main
from edgesal.evaluation import METRIC_KEYS, evaluate, maps_dir_source, predictor_source
from edgesal.predictors import load_predictor


def test_center_bias_on_osie_beats_chance():
    shared_or_skip("data", "osie")
    result = evaluate("osie", predictor_source(load_predictor("center-bias")), split="test", limit=8, progress=False)
    assert result.n_images == 8
    m = result.means
    assert 0.70 < m["auc_judd"] < 0.85  # center bias is strong on OSIE
    assert m["sauc"] < 0.55  # ...but shuffled AUC discounts it (negatives share the bias)
    assert m["nss"] > 0.5 and m["cc"] > 0.2
    assert np.isfinite(m["ll"])


def test_fitted_center_bias_has_zero_information_gain_over_itself():
    shared_or_skip("data", "osie")
    fitted = load_predictor("center-bias-fitted", data="osie")
    result = evaluate("osie", predictor_source(fitted), split="test", limit=5, progress=False)
    assert abs(result.means["ig"]) < 1e-6  # the IG baseline is the same fitted prior
    assert result.means["ll"] > 0  # better than uniform


def test_maps_dir_scores_ground_truth_densities_highly(blob_dataset, tmp_path):
    from edgesal.data import open_dataset

    ds = open_dataset(str(blob_dataset), split="all")
    for stem in ds.stems():
        sample = ds.load(stem)
        small = np.asarray(Image.fromarray(sample.density / sample.density.max()).resize((32, 24)))
        np.save(tmp_path / f"{stem}.npy", small)  # any size: resized to the image
    with pytest.warns(UserWarning, match="resizing maps"):
        good = evaluate(str(blob_dataset), maps_dir_source(tmp_path), split="all", progress=False)
    flat = evaluate(str(blob_dataset), predictor_source(load_predictor("center-bias")), split="all", progress=False)
    assert good.means["auc_judd"] > 0.95 and good.means["cc"] > 0.8
    assert good.means["auc_judd"] > flat.means["auc_judd"] + 0.1


def test_cli_writes_json_with_documented_keys(blob_dataset, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["evaluate", "--data", str(blob_dataset), "--split", "all", "--model", "center-bias",
                 "--json", str(out)])
    assert code == 0
    payload = json.loads(out.read_text())
    assert set(METRIC_KEYS) | {"n_images"} <= set(payload) and payload["n_images"] == 16
    assert "auc_judd" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["evaluate", "--data", "nosuchdataset", "--model", "center-bias"], "unknown dataset"),
    (["evaluate", "--data", "DATA", "--model", "centre-bias"], "did you mean 'center-bias'"),
    (["evaluate", "--data", "DATA", "--maps", "/no/such/dir"], "maps folder not found"),
    (["evaluate", "--data", "DATA"], "exactly one of --model or --maps"),
    (["evaluate", "--data", "DATA", "--split", "bogus", "--model", "center-bias"], "split"),
])
def test_cli_errors_are_one_line(blob_dataset, capsys, argv, message):
    argv = [str(blob_dataset) if a == "DATA" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "\n" not in err


def test_missing_map_names_the_stem(blob_dataset, tmp_path, capsys):
    assert main(["evaluate", "--data", str(blob_dataset), "--split", "all", "--maps", str(tmp_path)]) == 2
    assert "img" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["attention-center", "glimpse"])
def test_peer_tflite_models_predict_structured_maps(name):
    shared_or_skip("weights")
    from edgesal.data import open_dataset

    sample = open_dataset("osie", split="test").load(open_dataset("osie", split="test").stems()[0])
    saliency = load_predictor(name).predict(sample.image)
    assert saliency.shape == sample.size and np.isfinite(saliency).all()
    assert saliency.std() > 0  # not a constant map
