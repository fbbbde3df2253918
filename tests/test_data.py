"""Tests of edgesal.data: density maps, images, loaders, registry, splits.

Synthetic layouts are written into tmp_path; tests on the real datasets in ../shared skip
when it is absent.
"""

from __future__ import annotations

import functools
import json
import operator
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image
from scipy.ndimage import gaussian_filter

from edgesal.data import (
    DataWarning,
    SaliencyDataset,
    Sample,
    SplitDataset,
    density_from_fixations,
    list_datasets,
    load_density_map,
    load_rgb,
    make_split,
    open_dataset,
    write_split_manifest,
)
from edgesal.data.cat2000 import Cat2000Dataset
from edgesal.data.fixation_points import clip_fixations
from edgesal.data.generic import EyeCrowdDataset, GenericFolderDataset
from edgesal.data.mit1003 import Mit1003Dataset
from edgesal.data.osie import OsieDataset
from edgesal.data.salicon import SaliconDataset
from edgesal.data.scene import SceneDataset
from edgesal.data.splits import apply_split, default_split, load_split_manifest, manifest_path
from edgesal.errors import EdgesalError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"
needs_shared = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"real datasets not available ({DATA} is absent)"
)


# --------------------------------------------------------------------------- helpers
def write_image(path: Path, w: int, h: int, mode: str = "RGB", seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    arr = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
    Image.fromarray(arr[..., 0] if channels == 1 else arr).save(path)
    return path


def write_csv(path: Path, rows: list[tuple], header: str = "stem,observer,x,y,duration_ms") -> Path:
    lines = [header] + [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def make_generic(root: Path, with_maps: bool = True) -> Path:
    """stimuli a.jpg 40x30, b.png 20x10 (RGBA), c.jpg 30x30; maps/b.npy."""
    write_image(root / "stimuli" / "a.jpg", 40, 30)
    write_image(root / "stimuli" / "b.png", 20, 10, mode="RGBA")
    write_image(root / "stimuli" / "c.jpg", 30, 30, mode="L")
    write_csv(root / "fixations.csv", [
        ("a", "s01", 10.0, 5.0, 200), ("a", "s02", 39.0, 29.0, 100), ("a", "s02", 0.0, 0.0, 50),
        ("b", "s01", 3.0, 4.0, 10),
        ("c", "s03", 15.0, 15.0, 10),
    ])
    if with_maps:
        (root / "maps").mkdir()
        m = np.zeros((10, 20))
        m[2:5, 2:6] = 1.0
        np.save(root / "maps" / "b.npy", m)
    return root


def make_mit1003(root: Path) -> tuple[Path, list[tuple[int, int]]]:
    pts = [(10, 8), (40, 30), (55, 5)]  # (x, y)
    write_image(root / "ALLSTIMULI" / "i05.jpeg", 64, 48)
    write_image(root / "ALLSTIMULI" / "i07.jpeg", 64, 48, seed=1)
    fix = np.zeros((48, 64), dtype=np.uint8)
    for x, y in pts:
        fix[y, x] = 255
    (root / "ALLFIXATIONMAPS").mkdir(parents=True)
    for stem in ("i05", "i07"):
        Image.fromarray(fix).save(root / "ALLFIXATIONMAPS" / f"{stem}_fixPts.jpg", quality=100)
        dens = (gaussian_filter(fix.astype(float), 4) * 255 / gaussian_filter(fix.astype(float), 4).max())
        Image.fromarray(dens.astype(np.uint8)).save(root / "ALLFIXATIONMAPS" / f"{stem}_fixMap.jpg", quality=95)
    return root, pts


def make_cat2000(root: Path) -> Path:
    train = root / "trainSet"
    for cat, name in (("Action", "001"), ("Art", "002")):
        write_image(train / "Stimuli" / cat / f"{name}.jpg", 48, 27)
        locs = np.zeros((27, 48), dtype=np.uint8)
        locs[5, 7] = locs[20, 40] = 1
        (train / "FIXATIONLOCS" / cat).mkdir(parents=True)
        scipy.io.savemat(train / "FIXATIONLOCS" / cat / f"{name}.mat", {"fixLocs": locs})
        (train / "FIXATIONMAPS" / cat).mkdir(parents=True)
        Image.fromarray((gaussian_filter(locs * 255.0, 3) * 40).clip(0, 255).astype(np.uint8)).save(
            train / "FIXATIONMAPS" / cat / f"{name}.jpg")
    return root


def make_salicon(root: Path) -> Path:
    for split, ids in (("train", (1, 2)), ("val", (3,))):
        images, anns = [], []
        for i in ids:
            name = f"COCO_{split}2014_{i:012d}.jpg"
            write_image(root / "images" / split / name, 64, 48, seed=i)
            images.append({"id": i, "file_name": name, "width": 64, "height": 48})
            anns.append({"image_id": i, "worker_id": 7, "fixations": [[1, 1], [48, 64]]})
            anns.append({"image_id": i, "worker_id": 9, "fixations": [[10, 20]]})
        (root / f"fixations_{split}2014.json").write_text(json.dumps({"images": images, "annotations": anns}))
    return root


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


# --------------------------------------------------------------------------- density
def test_density_matches_gaussian_filter_on_both_paths():
    rng = np.random.default_rng(0)
    for n, shape, sigma in [(40, (30, 50), 3.0), (4000, (40, 60), 1.5), (1, (9, 7), 20.0)]:
        pts = np.column_stack([rng.uniform(0, shape[1] - 1, n), rng.uniform(0, shape[0] - 1, n)])
        dens = density_from_fixations(pts, shape, sigma)
        counts = np.zeros(shape)
        np.add.at(counts, (np.rint(pts[:, 1]).astype(int), np.rint(pts[:, 0]).astype(int)), 1)
        ref = gaussian_filter(counts, sigma, mode="constant")
        assert dens.dtype == np.float32 and dens.shape == shape
        np.testing.assert_allclose(dens, ref / ref.sum(), atol=1e-7)
        assert abs(float(dens.sum(dtype=np.float64)) - 1) < 1e-5


def test_density_peak_uniform_and_out_of_range_points():
    dens = density_from_fixations(np.array([[12.0, 7.0, 0.0]]), (20, 30), 2.0)
    assert np.unravel_index(dens.argmax(), dens.shape) == (7, 12)
    empty = density_from_fixations(np.zeros((0, 3)), (4, 5), 2.0)
    np.testing.assert_allclose(empty, 1 / 20)
    far = density_from_fixations(np.array([[100.0, -50.0]]), (10, 10), 1.0)  # clamped to a corner
    assert np.unravel_index(far.argmax(), far.shape) == (0, 9)
    with pytest.raises(ValueError):
        density_from_fixations(np.zeros((1, 2)), (5, 5), 0.0)


def test_load_density_map(tmp_path):
    np.save(tmp_path / "m.npy", np.arange(12, dtype=float).reshape(3, 4))
    m = load_density_map(tmp_path / "m.npy", (3, 4))
    assert m.dtype == np.float32 and abs(m.sum() - 1) < 1e-6 and m[0, 0] == 0
    Image.fromarray(np.full((10, 20), 128, np.uint8)).save(tmp_path / "g.png")
    with pytest.warns(DataWarning, match=r"g\.png.*resized"):
        r = load_density_map(tmp_path / "g.png", (5, 10))
    assert r.shape == (5, 10) and abs(r.sum() - 1) < 1e-6
    np.save(tmp_path / "neg.npy", -np.ones((2, 2)))
    with pytest.raises(EdgesalError, match="neg.npy"):
        load_density_map(tmp_path / "neg.npy", (2, 2))
    np.save(tmp_path / "zero.npy", np.zeros((2, 2)))
    with pytest.raises(EdgesalError, match="all zero"):
        load_density_map(tmp_path / "zero.npy", (2, 2))
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(EdgesalError, match="bad.png"):
        load_density_map(tmp_path / "bad.png", (2, 2))


# --------------------------------------------------------------------------- images
def test_load_rgb_modes_and_errors(tmp_path):
    gray = write_image(tmp_path / "g.png", 7, 5, mode="L")
    rgba = write_image(tmp_path / "a.png", 7, 5, mode="RGBA")
    for path in (gray, rgba):
        img = load_rgb(path)
        assert img.shape == (5, 7, 3) and img.dtype == np.uint8
    with pytest.raises(EdgesalError) as exc:
        load_rgb(tmp_path / "missing.jpg")
    assert "missing.jpg" in one_line(exc)
    (tmp_path / "garbage.jpg").write_bytes(b"\x00" * 100)
    with pytest.raises(EdgesalError) as exc:
        load_rgb(tmp_path / "garbage.jpg")
    assert "garbage.jpg" in one_line(exc)
    good = write_image(tmp_path / "t.jpg", 64, 64)
    (tmp_path / "truncated.jpg").write_bytes(good.read_bytes()[:400])
    with pytest.raises(EdgesalError) as exc:
        load_rgb(tmp_path / "truncated.jpg")
    assert "truncated.jpg" in one_line(exc)


def write_png16(path: Path, values: np.ndarray) -> Path:
    """A 16-bit PNG (grayscale for (H, W), 48-bit RGB for (H, W, 3)) written byte by byte."""
    import struct
    import zlib

    values = np.asarray(values, dtype=">u2")
    h, w = values.shape[:2]
    color_type = 2 if values.ndim == 3 else 0
    raw = b"".join(b"\x00" + values[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("channels", [1, 3])
def test_load_rgb_scales_16_bit_png_like_its_8_bit_version(tmp_path, channels):
    rng = np.random.default_rng(3)
    shape = (12, 17) if channels == 1 else (12, 17, 3)
    eight = rng.integers(0, 256, shape, dtype=np.uint8)
    Image.fromarray(eight).save(tmp_path / "8.png")
    sixteen = load_rgb(write_png16(tmp_path / "16.png", eight.astype(np.uint16) * 257))
    np.testing.assert_array_equal(sixteen, load_rgb(tmp_path / "8.png"))  # scaled, not saturated
    # in-between 16-bit values round to the nearest 8-bit level
    noisy = load_rgb(write_png16(tmp_path / "n.png", np.minimum(eight.astype(np.int64) * 257 + 100, 65535)))
    assert np.abs(noisy.astype(int) - sixteen.astype(int)).max() <= 1


def test_load_rgb_scales_int_and_float_modes(tmp_path):
    ramp = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    Image.fromarray(ramp).save(tmp_path / "f.tif")
    Image.fromarray((ramp * 65535).round().astype(np.int32)).save(tmp_path / "i.tif")
    expected = np.rint(ramp * 255).astype(np.uint8)
    for name in ("f.tif", "i.tif"):
        img = load_rgb(tmp_path / name)
        assert img.shape == (4, 5, 3) and img.dtype == np.uint8, name
        np.testing.assert_array_equal(img[..., 0], expected, err_msg=name)
    Image.fromarray(ramp * 300).save(tmp_path / "wide.tif")  # no known full scale: not a guess
    with pytest.raises(EdgesalError, match=r"wide\.tif.*0…1"):
        load_rgb(tmp_path / "wide.tif")


def test_16_bit_stimuli_predict_the_same_map(tmp_path):
    import torch

    from edgesal.models import build_model, get_spec, save_checkpoint
    from edgesal.predictors import load_predictor

    spec = get_spec("uva_tiny_readout")
    torch.manual_seed(0)
    ckpt = save_checkpoint(tmp_path / "tiny.pt", build_model(spec), spec)
    eight = np.asarray(Image.open(write_image(tmp_path / "8.png", 64, 48, seed=4)))
    write_png16(tmp_path / "16.png", eight.astype(np.uint16) * 257)
    predictor = load_predictor(str(ckpt))
    maps = [predictor.predict(load_rgb(tmp_path / name)) for name in ("8.png", "16.png")]
    assert np.corrcoef(maps[0].ravel(), maps[1].ravel())[0, 1] > 0.999


def test_clip_fixations_clamps_sub_pixel_points_and_drops_outliers():
    # outliers used to be clamped onto the border and scored; now they are dropped and counted
    fix = np.array([[-0.4, 2, 0], [-0.6, 2, 0], [9.4, 2, 1], [9.6, 2, 1], [3, 4.6, 2], [3, 4.4, 2],
                    [-1000, -1000, 3], [np.nan, 1, 3], [-0.5, 4.5, 4]])
    kept, n = clip_fixations(fix, (5, 10))
    assert n == 5
    np.testing.assert_array_equal(kept, [[0, 2, 0], [9, 2, 1], [3, 4, 2], [0, 4, 4]])
    empty, n = clip_fixations(np.zeros((0, 3)), (5, 10))
    assert empty.shape == (0, 3) and n == 0


# --------------------------------------------------------------------------- generic
def test_generic_folder(tmp_path):
    root = make_generic(tmp_path / "mine")
    ds = open_dataset(root)
    assert isinstance(ds, GenericFolderDataset) and ds.name == "mine"
    assert ds.stems() == ["a", "b", "c"] and len(ds) == 3
    assert ds.image_size("a") == (30, 40)
    a = ds.load("a")
    assert isinstance(a, Sample) and a.image.shape == (30, 40, 3)
    np.testing.assert_array_equal(a.fixations, [[10, 5, 0], [39, 29, 1], [0, 0, 1]])
    assert ds.observer_ids == {"s01": 0, "s02": 1, "s03": 2}
    assert a.meta["density_source"] == "points" and a.meta["sigma_px"] == pytest.approx(0.03 * 40)
    assert a.meta["n_observers"] == 2 and abs(a.density.sum() - 1) < 1e-5
    b = ds.load("b")
    assert b.meta["density_source"] == "map" and b.image.shape == (10, 20, 3)
    assert b.density[3, 3] > 0 and b.density[8, 15] == 0
    c = ds.load("c")
    assert c.image.shape == (30, 30, 3)
    np.testing.assert_allclose(ds.fixations_normalised("a"), [[10 / 40, 5 / 30], [39 / 40, 29 / 30], [0, 0]])
    assert ds.n_dropped == 0


def test_generic_string_observers_get_sorted_ids(tmp_path):
    root = make_generic(tmp_path / "d", with_maps=False)
    write_csv(root / "fixations.csv", [("a", "zed", 1, 1, 0), ("a", "amy", 2, 2, 0), ("b", "amy", 1, 1, 0),
                                       ("c", "bob", 1, 1, 0)])
    ds = GenericFolderDataset(root)
    assert ds.observer_ids == {"amy": 0, "bob": 1, "zed": 2}
    np.testing.assert_array_equal(ds.fixations("a")[:, 2], [2, 0])


def test_generic_errors(tmp_path):
    root = make_generic(tmp_path / "d", with_maps=False)
    # wrong columns
    write_csv(root / "fixations.csv", [("a", 1, 2)], header="image,x,y")
    with pytest.raises(EdgesalError) as exc:
        GenericFolderDataset(root).stems()
    msg = one_line(exc)
    assert "fixations.csv" in msg and "stem" in msg and "observer" in msg
    # unknown stem
    write_csv(root / "fixations.csv", [("a", "s1", 1, 1, 0), ("nope", "s1", 1, 1, 0)])
    with pytest.raises(EdgesalError) as exc:
        GenericFolderDataset(root).stems()
    assert "'nope'" in one_line(exc) and "fixations.csv" in str(exc.value)
    # non-numeric coordinate
    write_csv(root / "fixations.csv", [("a", "s1", "left", 1, 0)])
    with pytest.raises(EdgesalError, match="line 2"):
        GenericFolderDataset(root).stems()
    # empty dataset: header only
    write_csv(root / "fixations.csv", [])
    with pytest.raises(EdgesalError, match="no images with fixations"), pytest.warns(DataWarning):
        GenericFolderDataset(root).stems()
    # missing fixations file / stimuli folder
    (root / "fixations.csv").unlink()
    with pytest.raises(EdgesalError, match="fixations.csv"):
        GenericFolderDataset(root)
    empty = tmp_path / "empty"
    (empty / "stimuli").mkdir(parents=True)
    write_csv(empty / "fixations.csv", [])
    with pytest.raises(EdgesalError, match="no images"):
        GenericFolderDataset(empty).stems()


def test_generic_corrupt_image_names_the_file(tmp_path):
    root = make_generic(tmp_path / "d")
    good = (root / "stimuli" / "a.jpg").read_bytes()
    (root / "stimuli" / "a.jpg").write_bytes(good[: len(good) * 3 // 4])  # header intact, pixels cut
    ds = GenericFolderDataset(root)
    assert ds.image_size("a") == (30, 40)
    with pytest.raises(EdgesalError) as exc:
        ds.load("a")
    assert "a.jpg" in one_line(exc)
    (root / "stimuli" / "c.jpg").write_bytes(b"garbage")
    with pytest.raises(EdgesalError, match="c.jpg"):
        GenericFolderDataset(root).stems()


def test_generic_clipping_warning_and_skipped_images(tmp_path):
    root = make_generic(tmp_path / "d", with_maps=False)
    write_csv(root / "fixations.csv", [
        ("a", "s1", 45.0, 5.0, 0), ("a", "s1", -3.0, 5.0, 0), ("a", "s1", 39.3, 29.2, 0), ("a", "s1", 5, 5, 0),
        ("b", "s1", 1.0, 1.0, 0), ("b", "s1", "nan", 1.0, 0),
    ])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = GenericFolderDataset(root)
        stems = ds.stems()
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert stems == ["a", "b"]
    assert ds.n_dropped == 2
    assert any("d: dropped 2 fixation(s) outside the image (2 of 5" in m for m in messages), messages
    assert any("skipped 1 image" in m and "c" in m for m in messages), messages
    assert any("NaN" in m for m in messages), messages
    assert len(messages) == 3
    # the two outliers are gone (they used to be clamped to x = 39 and x = 0); the point
    # 0.3 px past the corner pixel is kept, clamped onto it
    np.testing.assert_array_equal(ds.fixations("a")[:, :2], [[39, 29], [5, 5]])
    ds.stems(), ds.load("a")  # no second warning: parsed once
    assert ds.n_dropped == 2


def test_generic_far_outliers_are_dropped_not_clamped(tmp_path):
    root = make_generic(tmp_path / "d", with_maps=False)
    write_csv(root / "fixations.csv", [
        ("a", "s1", -1000.0, -1000.0, 0), ("a", "s1", 20.0, 10.0, 0), ("a", "s1", 1e6, 3.0, 0),
        ("b", "s1", 2.0, 3.0, 0),
        ("c", "s1", -1000.0, -1000.0, 0),  # only outliers: nothing left to score
    ])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = GenericFolderDataset(root)
        stems = ds.stems()
    messages = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert stems == ["a", "b"] and ds.n_dropped == 3
    assert [m for m in messages if "dropped" in m] == [
        "d: dropped 3 fixation(s) outside the image (3 of 5; only points within half a pixel of the border are kept)"]
    assert any("skipped 1 image(s) without fixations on the image (c)" in m for m in messages), messages
    np.testing.assert_array_equal(ds.load("a").fixations, [[20, 10, 0]])
    assert not ds.load("a").fixation_map()[0, 0]  # nothing lands on the corner pixel


# --------------------------------------------------------------------------- other formats
def test_mit1003_layout(tmp_path):
    root, pts = make_mit1003(tmp_path / "MIT1003")
    ds = open_dataset(root)
    assert isinstance(ds, Mit1003Dataset) and ds.stems() == ["i05", "i07"]
    s = ds.load("i05")
    got = sorted(map(tuple, s.fixations[:, :2].astype(int)))
    assert got == sorted(pts)
    assert (s.fixations[:, 2] == -1).all()
    assert s.meta["density_source"] == "map" and s.meta["sigma_px"] == 35.0
    assert abs(s.density.sum() - 1) < 1e-5
    y, x = np.unravel_index(s.density.argmax(), s.density.shape)
    assert min(abs(x - px) + abs(y - py) for px, py in pts) <= 2
    assert ds.fixations_normalised("i07").shape == (3, 2)


def test_cat2000_layout_from_root_or_trainset(tmp_path):
    root = make_cat2000(tmp_path / "CAT2000")
    for path in (root, root / "trainSet"):
        ds = open_dataset(path)
        assert isinstance(ds, Cat2000Dataset)
        assert ds.stems() == ["Action/001", "Art/002"]
    s = ds.load("Art/002")
    assert s.image.shape == (27, 48, 3) and s.meta["density_source"] == "map"
    assert sorted(map(tuple, s.fixations[:, :2].astype(int))) == [(7, 5), (40, 20)]
    assert s.meta["sigma_px"] == 38.0


def test_salicon_layout_and_official_splits(tmp_path):
    root = make_salicon(tmp_path / "salicon")
    ds = open_dataset(root)
    assert isinstance(ds, SaliconDataset) and len(ds) == 3
    stem = "COCO_train2014_000000000001"
    fix = ds.fixations(stem)
    np.testing.assert_array_equal(fix, [[0, 0, 7], [63, 47, 7], [19, 9, 9]])  # (row, col) 1-based
    assert ds.image_size(stem) == (48, 64) and ds.n_dropped == 0
    s = ds.load(stem)
    assert s.meta["sigma_px"] == pytest.approx(0.03 * 64) and s.meta["density_source"] == "points"
    val = open_dataset(root, split="val")
    assert val.stems() == ["COCO_val2014_000000000003"] and val.split == "val"
    assert len(open_dataset(root, split="train")) == 2
    with pytest.raises(EdgesalError, match="unknown split 'test'"):
        open_dataset(root, split="test")


# --------------------------------------------------------------------------- registry
def test_autodetection_of_every_layout(tmp_path):
    make_generic(tmp_path / "g")
    make_mit1003(tmp_path / "m")
    make_cat2000(tmp_path / "c")
    make_salicon(tmp_path / "s")
    (tmp_path / "o" / "data" / "eye").mkdir(parents=True)
    scipy.io.savemat(tmp_path / "o" / "data" / "eye" / "fixations.mat", {"x": 1})
    (tmp_path / "sc" / "data" / "tidy").mkdir(parents=True)
    scipy.io.savemat(tmp_path / "sc" / "data" / "tidy" / "fixations.mat", {"x": 1})
    expected = {"g": GenericFolderDataset, "m": Mit1003Dataset, "c": Cat2000Dataset, "s": SaliconDataset,
                "o": OsieDataset, "sc": SceneDataset}
    for folder, cls in expected.items():
        assert type(open_dataset(tmp_path / folder)) is cls, folder
    (tmp_path / "nothing").mkdir()
    with pytest.raises(EdgesalError) as exc:
        open_dataset(tmp_path / "nothing")
    msg = one_line(exc)
    assert "unrecognised dataset layout" in msg and "fixations.csv" in msg and "ALLSTIMULI" in msg
    with pytest.raises(EdgesalError, match="directory not found"):
        open_dataset(tmp_path / "absent")


def test_registry_names_and_errors(tmp_path, monkeypatch):
    assert {"osie", "scene", "eyecrowd", "generic", "mit1003", "cat2000", "salicon"} <= set(list_datasets())
    with pytest.raises(EdgesalError) as exc:
        open_dataset("osei")
    assert "did you mean 'osie'" in one_line(exc) and "scene" in str(exc.value)
    with pytest.raises(EdgesalError, match="Known:"):
        open_dataset("zzzzzz")
    # not found: names where it looked and the env var
    monkeypatch.delenv("EDGESAL_DATA_MIT1003", raising=False)
    monkeypatch.delenv("EDGESAL_SHARED", raising=False)
    monkeypatch.setenv("EDGESAL_DATA", str(tmp_path / "datasets"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(EdgesalError) as exc:
        open_dataset("mit1003")
    msg = one_line(exc)
    assert "EDGESAL_DATA_MIT1003" in msg and str(tmp_path / "datasets" / "mit1003") in msg
    # $EDGESAL_DATA/<name>
    make_mit1003(tmp_path / "datasets" / "mit1003")
    assert isinstance(open_dataset("MIT1003"), Mit1003Dataset)
    # EDGESAL_DATA_<NAME> wins
    root, _ = make_mit1003(tmp_path / "elsewhere")
    monkeypatch.setenv("EDGESAL_DATA_MIT1003", str(root))
    assert open_dataset("mit1003").root == root
    monkeypatch.setenv("EDGESAL_DATA_MIT1003", str(tmp_path / "missing"))
    with pytest.raises(EdgesalError, match="EDGESAL_DATA_MIT1003="):
        open_dataset("mit1003")


def test_sigma_override(tmp_path):
    root = make_generic(tmp_path / "d")
    ds = open_dataset(root, sigma_px=5.0)
    assert ds.load("a").meta["sigma_px"] == 5.0
    with pytest.raises(EdgesalError, match="sigma_px"):
        open_dataset(root, sigma_px=-1.0)


# --------------------------------------------------------------------------- splits
def test_make_split_properties():
    stems = [f"{i:03d}" for i in range(101)]
    a = make_split(stems[::-1], seed=3)
    assert a == make_split(stems, seed=3) and a != make_split(stems, seed=4)
    assert [len(a[k]) for k in ("train", "val", "test")] == [71, 15, 15]
    assert sorted(a["train"] + a["val"] + a["test"]) == stems
    assert make_split([]) == {"train": [], "val": [], "test": []}
    with pytest.raises(EdgesalError, match="fractions"):
        make_split(stems, fractions=(0.5, 0.5, 0.5))


def test_split_views_on_synthetic_data(tmp_path):
    root = make_generic(tmp_path / "d")
    full = open_dataset(root)
    parts = {k: open_dataset(root, split=k) for k in ("train", "val", "test")}
    assert sorted(functools.reduce(operator.iadd, (p.stems() for p in parts.values()), [])) == full.stems()
    assert open_dataset(root, split="all").stems() == full.stems()
    train = parts["train"]
    assert isinstance(train, SplitDataset) and train.n_dropped == 0 and train.name == "d"
    outside = next(s for s in full.stems() if s not in train.stems())
    with pytest.raises(EdgesalError, match="not in the train split"):
        train.load(outside)
    assert train.load(train.stems()[0]).meta["split"] == "train"
    with pytest.raises(EdgesalError, match="unknown split 'dev'"):
        open_dataset(root, split="dev")
    clone = pickle.loads(pickle.dumps(train))  # DataLoader workers pickle datasets
    assert clone.stems() == train.stems() and clone.load(train.stems()[0]).stem == train.stems()[0]
    path = write_split_manifest(full, out_dir=tmp_path / "manifests")
    manifest = json.loads(path.read_text())
    assert manifest["dataset"] == "d" and manifest["seed"] == 0 and manifest["fractions"] == [0.7, 0.15, 0.15]


def test_default_split_is_held_out_only_where_the_split_is_fixed(tmp_path):
    own = open_dataset(make_generic(tmp_path / "d"))
    assert default_split(own) == "all"  # a user's folder: every image, not a seeded 15%
    assert open_dataset(own.root, split="test").seeded and not open_dataset(own.root, split="all").seeded
    salicon = open_dataset(make_salicon(tmp_path / "salicon"))
    assert default_split(salicon) == "val"  # official train / val, no public test fixations
    assert not open_dataset(salicon.root, split="val").seeded


@needs_shared
@pytest.mark.shared
def test_default_split_of_datasets_with_committed_manifests(osie, scene):
    for ds in (osie, scene):
        assert default_split(ds) == "test"
        assert not apply_split(ds, "test").seeded


class _Tiny(SaliencyDataset):
    """A minimal dataset: the base-class defaults for image_size / fixations_normalised."""

    name = "tiny"

    def stems(self):
        return ["x"]

    def load(self, stem):
        return Sample(stem, Path("x"), np.zeros((4, 8, 3), np.uint8), np.array([[4.0, 2.0, 0.0]]),
                      np.full((4, 8), 1 / 32, np.float32))


def test_base_class_defaults():
    ds = _Tiny()
    assert ds.image_size("x") == (4, 8)
    np.testing.assert_allclose(ds.fixations_normalised("x"), [[0.5, 0.5]])


# --------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def osie():
    return OsieDataset(DATA / "osie")


@pytest.fixture(scope="module")
def scene():
    ds = SceneDataset(DATA / "scene")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ds.stems()
    return ds


@needs_shared
@pytest.mark.shared
def test_osie_real(osie):
    stems = osie.stems()
    assert len(stems) == 700 and stems[0] == "1001" and stems[-1] == "1700"
    counts, observers = [], set()
    for stem in stems:
        assert osie.image_size(stem) == (600, 800)
        fix = osie.fixations(stem)
        counts.append(len(fix))
        observers.update(fix[:, 2].tolist())
        assert fix[:, 0].min() >= 0 and fix[:, 0].max() <= 799 and fix[:, 1].min() >= 0 and fix[:, 1].max() <= 599
    assert min(counts) == 111 and max(counts) == 179 and sum(counts) == 98321
    assert observers == set(range(15))
    assert osie.n_dropped == 0
    s = osie.load("1001")
    assert s.image.shape == (600, 800, 3) and s.meta["sigma_px"] == 24.0 and s.meta["n_observers"] == 15
    assert abs(float(s.density.sum(dtype=np.float64)) - 1) < 1e-5
    xs, ys = np.rint(s.fixations[:, 0]).astype(int), np.rint(s.fixations[:, 1]).astype(int)
    assert s.density[ys, xs].mean() > 3 * s.density.mean()  # mass sits on the fixations
    py, px = np.unravel_index(s.density.argmax(), s.density.shape)
    assert np.hypot(s.fixations[:, 0] - px, s.fixations[:, 1] - py).min() < 24
    norm = osie.fixations_normalised("1001")
    assert norm.shape == (len(s.fixations), 2) and norm.min() >= 0 and norm.max() < 1


@needs_shared
@pytest.mark.shared
def test_scene_real_row_col_and_bounds(scene):
    stems = scene.stems()
    assert len(stems) == 500 and stems[0] == "001"
    # 1-based (row, col): 2 of 43,894 points lie off their image (documented in scene.py):
    # they are dropped, not clamped onto the border
    assert scene.n_dropped == 2
    wide_x_beyond_height = 0
    total = 0
    for stem in stems:
        h, w = scene.image_size(stem)
        fix = scene.fixations(stem)
        total += len(fix)
        assert fix[:, 0].min() >= 0 and fix[:, 0].max() <= w - 1
        assert fix[:, 1].min() >= 0 and fix[:, 1].max() <= h - 1
        wide_x_beyond_height += int(w > h and fix[:, 0].max() > h)
    assert total == 43894 - 2
    assert wide_x_beyond_height > 50  # x is the column: on wide images it exceeds the height
    s = scene.load("001")
    assert s.meta["sigma_px"] == pytest.approx(0.03 * s.size[1]) and abs(s.density.sum() - 1) < 1e-5


@needs_shared
@pytest.mark.shared
def test_eyecrowd_via_generic_loader(monkeypatch):
    monkeypatch.setenv("EDGESAL_DATA_EYECROWD", str(DATA / "eyecrowd_512"))
    ds = open_dataset("eyecrowd")
    assert isinstance(ds, EyeCrowdDataset) and ds.name == "eyecrowd"
    stems = ds.stems()
    assert len(stems) == 500 and len(ds.observer_ids) == 16 and ds.n_dropped == 0
    assert ds.image_size(stems[0]) == (384, 512)
    s = ds.load(stems[0])
    assert s.image.shape == (384, 512, 3) and s.meta["sigma_px"] == pytest.approx(0.03 * 512)
    assert type(open_dataset(DATA / "eyecrowd_512")) is GenericFolderDataset


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("name", ["osie", "scene"])
def test_committed_split_manifests(name, osie, scene):
    ds = {"osie": osie, "scene": scene}[name]
    manifest = load_split_manifest(name)
    assert manifest is not None, f"missing {manifest_path(name)}"
    assert manifest["dataset"] == name and manifest["seed"] == 0
    fresh = make_split(ds.stems(), seed=manifest["seed"], fractions=manifest["fractions"])
    assert {k: manifest[k] for k in ("train", "val", "test")} == fresh
    train, val, test = (set(manifest[k]) for k in ("train", "val", "test"))
    assert not (train & val or train & test or val & test)
    assert train | val | test == set(ds.stems())
    view = SplitDataset(ds, manifest["test"], "test")
    assert len(view) == len(manifest["test"])


@needs_shared
@pytest.mark.shared
def test_open_dataset_split_uses_manifest(monkeypatch):
    monkeypatch.setenv("EDGESAL_DATA_OSIE", str(DATA / "osie"))
    test = open_dataset("osie", split="test")
    assert test.stems() == load_split_manifest("osie")["test"] and len(test) == 105
    assert test.fixations_normalised(test.stems()[0]).shape[1] == 2
