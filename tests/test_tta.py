"""Horizontal-flip test-time averaging (``--tta hflip``): the map is mirror-consistent, a density,
and reachable from predict, evaluate and the Python API."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from edgesal.cli.main import main
from edgesal.cli.params import TTA_CHOICES
from edgesal.predictors import load_predictor
from edgesal.predictors.flip import TTA_MODES, FlipAveragePredictor


def _image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.zeros((48, 64, 3), np.uint8)
    image[10:30, 5:20] = 255  # an off-centre bright block: an asymmetric image
    return np.clip(image + rng.integers(0, 30, image.shape), 0, 255).astype(np.uint8)


def test_flip_average_is_mirror_consistent_and_a_density():
    plain = load_predictor("nano")  # a trained model: its map follows the (asymmetric) image
    tta = load_predictor("nano", tta="hflip")
    assert isinstance(tta, FlipAveragePredictor) and tta.output_kind == "log_density"
    image = _image()
    averaged = tta.predict(image)
    # the averaged map of the mirror image is the mirror of the averaged map (the plain one is not)
    np.testing.assert_allclose(tta.predict(image[:, ::-1]), averaged[:, ::-1], rtol=1e-4, atol=1e-9)
    assert not np.allclose(plain.predict(image[:, ::-1]), plain.predict(image)[:, ::-1], rtol=1e-3)
    # and it is the mean of the two densities
    one = plain.predict(image) / plain.predict(image).sum()
    two = plain.predict(image[:, ::-1])[:, ::-1]
    np.testing.assert_allclose(averaged, 0.5 * (one + two / two.sum()), rtol=1e-4, atol=1e-9)
    assert averaged.shape == image.shape[:2] and abs(averaged.sum() - 1) < 1e-4
    np.testing.assert_allclose(np.exp(tta.predict_log_density(image)), averaged, rtol=1e-3, atol=1e-9)


def test_cli_choices_are_the_library_modes():
    assert TTA_CHOICES == TTA_MODES


def test_predict_and_evaluate_take_tta(blob_dataset, tiny_ckpt, tmp_path, capsys):
    out = tmp_path / "maps"
    assert main(["predict", str(blob_dataset / "stimuli"), "--out", str(out), "--model", str(tiny_ckpt),
                 "--format", "npy", "--tta", "hflip"]) == 0
    assert len(list(out.glob("*.npy"))) == 16
    image = np.asarray(Image.open(blob_dataset / "stimuli" / "img00.png").convert("RGB"))
    expected = load_predictor(str(tiny_ckpt), tta="hflip").predict(image)
    np.testing.assert_allclose(np.load(out / "img00.npy"), expected, rtol=1e-4, atol=1e-9)
    capsys.readouterr()
    assert main(["evaluate", "--data", str(blob_dataset), "--model", str(tiny_ckpt), "--tta", "hflip",
                 "--limit", "2"]) == 0
    assert "(tta hflip)" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["evaluate", "--data", "DATA", "--maps", "DATA", "--tta", "hflip"], "--tta needs --model"),
    (["predict", "clip.mp4", "--out", "OUT", "--tta", "hflip"], "--tta applies to images only"),
    (["predict", "a.jpg", "--out", "OUT", "--tta", "vflip"], "Invalid value for '--tta'"),
])
def test_tta_bad_use_is_a_one_line_error(blob_dataset, tiny_ckpt, tmp_path, capsys, args, message):
    args = [a.replace("DATA", str(blob_dataset)).replace("OUT", str(tmp_path / "o")) for a in args]
    assert main([*args, "--model", str(tiny_ckpt)] if "--maps" not in args else args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
