"""Crop search (exact vs brute force, known answers, rounding), the API and `edgesal crop` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from benchmark_scripts import load_benchmark
from PIL import Image

import edgesal
from edgesal.cli.main import main
from edgesal.cropping import best_crop, crop_size, parse_aspect
from edgesal.cropping.run import prefetch
from edgesal.cropping.search import normalise, summed_area_table, window_sums
from edgesal.models import build_model, get_spec, save_checkpoint

ASPECTS = ["1:1", "4:5", "9:16", "16:9", "1.91:1", "3:1"]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    spec = get_spec("uva_tiny_readout")
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    return save_checkpoint(path, build_model(spec), spec)


def brute_force(m: np.ndarray, h: int, w: int) -> float:
    return max(m[y:y + h, x:x + w].sum() for y in range(m.shape[0] - h + 1) for x in range(m.shape[1] - w + 1))


@pytest.mark.parametrize("seed", range(6))
def test_exact_search_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(3, 24, size=2))
    m = normalise(rng.random(shape) ** 4)  # peaky, so the best window is unique
    for aspect in ASPECTS:
        h, w = crop_size(m.shape, parse_aspect(aspect))
        sums = window_sums(summed_area_table(m), h, w)
        assert sums.shape == (shape[0] - h + 1, shape[1] - w + 1)
        crop = best_crop(m, aspect)
        assert crop.score == pytest.approx(brute_force(m, h, w), abs=1e-12)
        assert sums.max() == pytest.approx(crop.score, abs=1e-12)


def test_single_bright_pixel_is_inside_the_crop():
    for y, x in [(0, 0), (5, 77), (59, 79), (30, 40)]:
        m = np.zeros((60, 80))
        m[y, x] = 1.0
        for aspect in ASPECTS:
            c = best_crop(m, aspect)
            assert c.x <= x < c.x + c.w and c.y <= y < c.y + c.h and c.score == 1.0
            p = best_crop(m, aspect, method="point")
            assert p.x <= x < p.x + p.w and p.y <= y < p.y + p.h


def test_uniform_map_gives_the_centred_crop_with_area_fraction():
    m = np.ones((60, 80))
    for aspect in ASPECTS:
        c, center = best_crop(m, aspect), best_crop(m, aspect, method="center")
        assert (c.x, c.y, c.w, c.h) == (center.x, center.y, center.w, center.h)  # ties → most central
        assert c.score == pytest.approx(c.w * c.h / m.size)


@pytest.mark.parametrize("image_hw", [(1, 1), (7, 3), (600, 800), (256, 256), (2048, 1365), (5, 999)])
@pytest.mark.parametrize("aspect", ["1:1", "4:5", "9:16", "16:9", "1.91:1"])
@pytest.mark.parametrize("method", ["saliency", "center", "point"])
def test_rectangle_inside_image_with_the_aspect(image_hw, aspect, method):
    a = parse_aspect(aspect)
    try:
        h, w = crop_size(image_hw, a)
    except edgesal.errors.EdgesalError:
        assert min(image_hw[1], image_hw[0] * a.ratio) < 1 or min(image_hw[0], image_hw[1] / a.ratio) < 1
        return
    m = np.random.default_rng(1).random(image_hw)
    c = best_crop(m, a, method=method)
    assert (c.h, c.w) == (h, w)
    assert c.x >= 0 and c.x + c.w <= image_hw[1] and c.y >= 0 and c.y + c.h <= image_hw[0]
    assert c.h == image_hw[0] or c.w == image_hw[1]  # the largest crop fills one side
    if c.h == image_hw[0]:
        assert abs(c.w - c.h * a.ratio) <= 0.5  # rounding rule: the other side to the nearest pixel
    else:
        assert abs(c.h - c.w / a.ratio) <= 0.5


def test_zoom_tightens_around_concentrated_saliency_only():
    m = np.zeros((60, 80))
    m[25:35, 35:45] = 1.0
    full = best_crop(m, "1:1")
    zoomed = best_crop(m, "1:1", zoom=4)
    assert zoomed.w < full.w and zoomed.score == 1.0 and zoomed.w == zoomed.h
    assert zoomed.w >= 15  # ≥ largest side / zoom
    uniform = best_crop(np.ones((60, 80)), "1:1", zoom=4)  # nothing to gain: keep the largest crop
    assert (uniform.w, uniform.h) == (full.w, full.h)


@pytest.mark.parametrize("text", ["0:1", "1:0", "abc", "16:9:1", "-1:2", "nan:1", "inf:1", ""])
def test_bad_aspects(text):
    with pytest.raises(edgesal.errors.EdgesalError, match="aspect"):
        parse_aspect(text)


def test_aspect_that_cannot_fit():
    with pytest.raises(edgesal.errors.EdgesalError, match="less than 1 px wide"):
        crop_size((10, 10), parse_aspect("1:1000"))
    with pytest.raises(edgesal.errors.EdgesalError, match="less than 1 px"):
        crop_size((1, 1), parse_aspect("9:16"))
    assert crop_size((1, 1), parse_aspect("1:1")) == (1, 1)


def test_api_accepts_array_path_and_pil(tiny_checkpoint, blob_dataset):
    path = blob_dataset / "stimuli" / "img00.png"
    by_path = edgesal.crop(path, "9:16", model=str(tiny_checkpoint))
    by_pil = edgesal.crop(Image.open(path), "9:16", model=str(tiny_checkpoint))
    by_array = edgesal.crop(np.asarray(Image.open(path).convert("RGB")), "9:16", model=str(tiny_checkpoint))
    assert by_path == by_pil == by_array
    assert by_path.h == 48 and by_path.w == 27 and 0 < by_path.score <= 1


def test_import_edgesal_stays_light():
    import subprocess
    import sys

    code = "import sys, edgesal; print(sorted(m for m in ('numpy', 'torch', 'PIL') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_prefetch_keeps_order_and_bounds_in_flight():
    from concurrent.futures import ThreadPoolExecutor

    submitted = []

    def work(i):
        submitted.append(i)
        return i * i

    with ThreadPoolExecutor(2) as pool:
        futures = prefetch(pool, work, range(20), ahead=3)
        first = next(futures)
        assert first.result() == 0 and len(submitted) <= 4
        assert [f.result() for f in futures] == [i * i for i in range(1, 20)]


def test_cli_end_to_end(blob_dataset, tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "crops"
    rc = main(["crop", str(blob_dataset / "stimuli"), "--aspect", "1:1", "--aspect", "9:16", "--model",
               str(tiny_checkpoint), "--preview", "--out", str(out), "--workers", "2"])
    assert rc == 0, capsys.readouterr().err
    records = json.loads((out / "crops.json").read_text())
    assert len(records) == 32
    for r in records:
        assert list(r) == ["image", "aspect", "x", "y", "w", "h", "score"]
        assert r["aspect"] in ("1:1", "9:16") and r["image"].endswith(".png")
        assert isinstance(r["x"], int) and isinstance(r["w"], int) and 0 < r["score"] <= 1
        stem = r["image"][:-4]
        crop = np.asarray(Image.open(out / f"{stem}_{r['aspect'].replace(':', 'x')}.png"))
        assert crop.shape[:2] == (r["h"], r["w"])
        source = np.asarray(Image.open(blob_dataset / "stimuli" / r["image"]).convert("RGB"))
        assert np.array_equal(crop, source[r["y"]:r["y"] + r["h"], r["x"]:r["x"] + r["w"]])
    assert (out / "img00_preview.png").is_file()
    assert not list(out.glob(".*.tmp"))


def test_cli_methods_and_jpg(blob_dataset, tiny_checkpoint, tmp_path):
    for method in ("center", "point"):
        out = tmp_path / method
        assert main(["crop", str(blob_dataset / "stimuli" / "img03.png"), "--aspect", "4:5", "--method", method,
                     "--model", str(tiny_checkpoint), "--format", "jpg", "--out", str(out)]) == 0
        (record,) = json.loads((out / "crops.json").read_text())
        assert (out / "img03_4x5.jpg").is_file() and record["h"] == 48
        if method == "center":
            assert record["x"] == (64 - record["w"]) // 2


def test_cli_out_inside_input_folder_reads_no_crops_back(blob_dataset, tiny_checkpoint, tmp_path, capsys):
    import shutil

    src = tmp_path / "imgs"
    shutil.copytree(blob_dataset / "stimuli", src)
    inputs = {p.name: p.read_bytes() for p in src.glob("*.png")}
    for _ in range(2):  # the second run must not crop the first run's crops
        assert main(["crop", str(src), "--aspect", "1:1", "--model", str(tiny_checkpoint),
                     "--out", str(src / "crops")]) == 0
        assert "for 16 image(s)" in capsys.readouterr().out
    assert len(json.loads((src / "crops" / "crops.json").read_text())) == 16
    assert {p.name: p.read_bytes() for p in src.glob("*.png")} == inputs


def test_camera_path_holds_pans_bounded_and_cuts():
    from edgesal.cropping.path import crop_centres, smooth_path, window_at

    maps = []
    for t in range(60):  # a bright spot that sits, pans right, then jumps (a cut at frame 45)
        m = np.zeros((40, 160))
        x = 30 if t < 15 else min(30 + 3 * (t - 15), 110) if t < 45 else 20
        m[18:22, x:x + 4] = 1.0
        maps.append(m)
    centres = crop_centres(maps, "9:16")
    path = smooth_path(centres, hold=4, max_speed=4, max_accel=0.5, cuts=[45])
    speed = np.diff(path[:45, 0])
    assert np.all(np.abs(speed) <= 4 + 1e-9) and np.all(np.abs(np.diff(speed)) <= 0.5 + 1e-9)
    assert np.all(speed[:14] == 0)  # still while the target is still
    assert path[44, 0] > 90 and path[45, 0] == centres[45, 0]  # followed the pan, restarted at the cut
    x, y, w, h = window_at(tuple(path[50]), (40, 160), "9:16")
    assert (h, w) == (40, 23) and 0 <= x <= 160 - w and y == 0


def test_benchmark_human_consistency_splits_observers(blob_dataset):
    """Observers who all look at one blob: the other half's crop keeps every held-out fixation, as the oracle does."""
    crop_benchmark = load_benchmark("crop")
    text = crop_benchmark.human_consistency(str(blob_dataset), None)
    rows = {line.split(" | ")[0].lstrip("| "): [float(v) for v in line.strip(" |").split(" | ")[1:]]
            for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| crop |", "| gap"))}
    assert rows["crop on the other half's density"] == rows["oracle (same half's density)"]
    assert rows["oracle (same half's density)"][2] == 1.0 > rows["center"][2]  # 9:16 on a 4:3 image
