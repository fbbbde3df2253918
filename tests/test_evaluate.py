"""`edgesal evaluate` end to end: baselines on real OSIE, precomputed maps, CLI errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from shared_paths import shared_or_skip

from edgesal.cli.main import main
from edgesal.data import DataWarning, open_dataset
from edgesal.errors import EdgesalError
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


# --------------------------------------------------------------------------- which images are scored
def _center_bias():
    return predictor_source(load_predictor("center-bias"))


def test_own_folder_scores_all_images_by_default(blob_dataset):
    result = evaluate(str(blob_dataset), _center_bias(), progress=False)
    assert (result.n_images, result.n_total, result.split, result.split_seeded) == (16, 16, "all", False)
    seeded = evaluate(str(blob_dataset), _center_bias(), split="test", progress=False)
    assert (seeded.n_images, seeded.n_total, seeded.split, seeded.split_seeded) == (3, 16, "test", True)
    limited = evaluate(str(blob_dataset), _center_bias(), limit=5, progress=False)
    assert (limited.n_images, limited.n_total) == (5, 16)


def test_named_dataset_with_committed_split_scores_its_test_split():
    shared_or_skip("data", "osie")
    result = evaluate("osie", _center_bias(), limit=2, progress=False)
    assert (result.n_images, result.n_total, result.split, result.split_seeded) == (2, 700, "test", False)


@pytest.mark.parametrize("limit", [0, -1])
def test_library_rejects_limit_below_one(blob_dataset, limit):
    # --limit 0 used to score every image and --limit -1 all but the last
    with pytest.raises(EdgesalError, match=f"limit must be at least 1.*got {limit}"):
        evaluate(str(blob_dataset), _center_bias(), limit=limit, progress=False)


def test_cli_reports_scored_of_total_and_seeded_split(blob_dataset, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["evaluate", "--data", str(blob_dataset), "--model", "center-bias", "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert [payload[k] for k in ("n_images", "n_total", "split", "split_seeded")] == [16, 16, "all", False]
    printed = capsys.readouterr().out
    assert "n_total" in printed and "seeded" not in printed
    assert main(["evaluate", "--data", str(blob_dataset), "--model", "center-bias", "--split", "test",
                 "--json", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert [payload[k] for k in ("n_images", "n_total", "split", "split_seeded")] == [3, 16, "test", True]
    assert "seeded split" in capsys.readouterr().out


def test_far_outlier_fixations_do_not_change_the_scores(blob_dataset, tmp_path):
    noisy = tmp_path / "noisy"
    shutil.copytree(blob_dataset, noisy)
    stems = sorted(p.stem for p in (noisy / "stimuli").glob("*.png"))
    with (noisy / "fixations.csv").open("a") as f:  # used to be clamped onto the corner and scored
        f.writelines(f"{stem},s9,-1000,-1000\n{stem},s9,5000,20\n" for stem in stems)
    clean = evaluate(str(blob_dataset), _center_bias(), progress=False)
    with pytest.warns(DataWarning, match=r"dropped 32 fixation\(s\) outside the image"):
        dropped = evaluate(str(noisy), _center_bias(), progress=False)
    assert dropped.means == pytest.approx(clean.means)


def test_bad_maps_name_their_file_and_constant_maps_score_at_chance(blob_dataset, tmp_path):
    for stem in open_dataset(str(blob_dataset)).stems():
        np.save(tmp_path / f"{stem}.npy", np.full((48, 64), 3.0))
    flat = evaluate(str(blob_dataset), maps_dir_source(tmp_path), progress=False)
    assert flat.means["auc_judd"] == pytest.approx(0.5) and flat.means["cc"] == 0
    bad = np.full((48, 64), 3.0)
    bad[4, 4] = np.nan
    np.save(tmp_path / "img05.npy", bad)
    with pytest.raises(EdgesalError, match=r"^map .*img05\.npy has NaN values$"):
        evaluate(str(blob_dataset), maps_dir_source(tmp_path), progress=False)


def test_nan_predictor_output_names_the_image(blob_dataset):
    from edgesal.predictors.base import Predictor

    class NanPredictor(Predictor):
        name = "nan-model"

        def predict(self, image):
            return np.full(image.shape[:2], np.nan, dtype=np.float32)

    with pytest.raises(EdgesalError, match=r"nan-model map of image .*img00\.png has NaN values"):
        evaluate(str(blob_dataset), predictor_source(NanPredictor()), progress=False)


def test_cli_split_choices_are_the_library_split_names():
    from edgesal.cli.evaluate import SPLIT_CHOICES
    from edgesal.data.splits import SPLIT_NAMES

    assert SPLIT_CHOICES == SPLIT_NAMES
