"""Video: decode / encode, predict outputs, the simulator's exact fixation transform, loaders, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from PIL import Image
from video_clips import clip_frames, make_clip

from edgesal.cli.main import main
from edgesal.models import build_model, get_spec, save_checkpoint
from edgesal.video.camera import in_frame, render, shot_matrices, to_frame, view_matrix
from edgesal.video.datasets import open_video_dataset
from edgesal.video.frame_models import PerFrameModel
from edgesal.video.metrics import StabilityMeter, change
from edgesal.video.reader import FrameRange, VideoReader, is_video_source
from edgesal.video.writer import open_video_writer


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory) -> Path:
    spec = get_spec("uva_tiny_readout")
    torch.manual_seed(0)
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pt", build_model(spec), spec)


def test_encode_decode_round_trip(tmp_path):
    frames = clip_frames(10)
    with open_video_writer(tmp_path / "rt.mp4", fps=10, crf=0) as encoder:
        for f in frames:
            encoder.write(f)
    with VideoReader(tmp_path / "rt.mp4") as reader:
        assert (reader.info.width, reader.info.height, reader.info.fps) == (64, 48, 10.0)
        decoded = list(reader.frames())
    assert [f.index for f in decoded] == list(range(10))
    assert [f.time for f in decoded] == pytest.approx([i / 10 for i in range(10)])
    def blocks(image):  # 8×8 block means: per-pixel noise loses its chroma in 4:2:0, the content must not
        return image.astype(float).reshape(6, 8, 8, 8, 3).mean(axis=(1, 3))

    err = np.mean([np.abs(blocks(a.image) - blocks(b)).mean() for a, b in zip(decoded, frames)])
    assert err < 2.0


def test_interrupted_writer_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError), open_video_writer(tmp_path / "x.mp4", fps=10) as encoder:
        encoder.write(clip_frames(1)[0])
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_frame_range_stride_max_start_end(tmp_path):
    path = make_clip(tmp_path / "c.mp4", n=24, fps=12)

    def indices(**kw):
        with VideoReader(path) as reader:
            return [f.index for f in reader.frames(FrameRange(**kw))]

    assert indices(stride=5) == [0, 5, 10, 15, 20]
    assert indices(max_frames=3) == [0, 1, 2]
    assert indices(start=1.0, end=1.5) == [12, 13, 14, 15, 16, 17]
    assert indices(start=0.5, stride=4, max_frames=2) == [6, 10]


def test_variable_frame_rate_timestamps(tmp_path):
    pts = [0, 100, 150, 400, 420, 700]
    path = make_clip(tmp_path / "vfr.mp4", n=6, pts=pts)
    with VideoReader(path) as reader:
        assert [f.time for f in reader.frames()] == pytest.approx([p / 1000 for p in pts])


def test_rotation_metadata_is_applied(tmp_path):
    path = make_clip(tmp_path / "rot.mp4", n=3, rotation=90)
    with VideoReader(path) as reader:
        frame = next(reader.frames())
        assert (reader.info.rotation, reader.info.width, reader.info.height) == (90, 48, 64)
    # 90° counter-clockwise: the yellow square is where np.rot90 puts it
    def square_centre(image):
        rows, cols = np.nonzero((image[..., 0] > 180) & (image[..., 2] < 140))
        return np.array([rows.mean(), cols.mean()])

    expected = square_centre(np.rot90(clip_frames(1)[0]))
    assert np.abs(square_centre(frame.image) - expected).max() < 1.0


def test_video_recognised_by_content(tmp_path):
    path = make_clip(tmp_path / "clip.mp4", n=2)
    renamed = path.rename(tmp_path / "clip.bin")
    assert is_video_source(renamed) and is_video_source("camera:0") and not is_video_source(tmp_path / "x.png")


def test_predict_video_png_layout_and_json(tmp_path, tiny_ckpt):
    make_clip(tmp_path / "in" / "clip.mp4", n=12, fps=12)
    rc = main(["predict", str(tmp_path / "in" / "clip.mp4"), "--out", str(tmp_path / "o"), "--model", str(tiny_ckpt),
               "--stride", "3", "--start", "0.2", "--max-frames", "3"])
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "o" / "clip").iterdir()) == ["000003.png", "000006.png", "000009.png"]
    index = json.loads((tmp_path / "o" / "clip.json").read_text())
    assert index["frames"] == {"000003": 0.25, "000006": 0.5, "000009": 0.75}
    assert (index["fps"], index["width"], index["height"], index["model"]) == (12.0, 64, 48, "tiny")
    assert np.asarray(Image.open(tmp_path / "o" / "clip" / "000003.png")).shape == (48, 64)


def test_predict_odd_size_overlay_and_npy(tmp_path, tiny_ckpt):
    make_clip(tmp_path / "odd.mkv", n=6, size_hw=(47, 63))
    assert main(["predict", str(tmp_path / "odd.mkv"), "--out", str(tmp_path / "o"), "--model", str(tiny_ckpt),
                 "--format", "overlay"]) == 0
    with VideoReader(tmp_path / "o" / "odd_overlay.mp4") as reader:
        assert (reader.info.width, reader.info.height, reader.info.fps) == (64, 48, 12.0)  # padded to even
        assert len(list(reader.frames())) == 6
    assert main(["predict", str(tmp_path / "odd.mkv"), "--out", str(tmp_path / "n"), "--model", str(tiny_ckpt),
                 "--format", "npy", "--smooth", "0.5"]) == 0
    maps = np.load(tmp_path / "n" / "odd" / "000005.npy")
    assert maps.shape == (47, 63) and maps.sum() == pytest.approx(1.0, rel=1e-4)  # smoothed maps are densities


class _Constant:
    name = "const"

    def __init__(self):
        self.values = iter([np.eye(3), np.ones((3, 3))])

    def predict(self, image):
        return next(self.values).astype(np.float32)

    def describe(self):
        return {"name": self.name}


def test_smoothing_is_an_ema_of_densities():
    model = PerFrameModel(_Constant(), smooth=0.25)
    first = model.predict(None)
    second = model.predict(None)
    assert first == pytest.approx(np.eye(3) / 3)
    assert second == pytest.approx(0.25 * np.ones((3, 3)) / 9 + 0.75 * np.eye(3) / 3)


def _blob(shape_hw, x, y, sigma=3.0):
    ys, xs = np.mgrid[:shape_hw[0], :shape_hw[1]]
    g = np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2))
    return np.repeat((g * 255)[..., None], 3, axis=-1).astype(np.uint8)


def _centroid(frame):
    f = frame[..., 0].astype(float)
    ys, xs = np.mgrid[:f.shape[0], :f.shape[1]]
    return np.array([(f * xs).sum() / f.sum(), (f * ys).sum() / f.sum()])


@pytest.mark.parametrize("cx,cy,scale", [(50.3, 40.7, 0.5), (48.0, 41.0, 1.0), (60.2, 44.1, 1.6)])
def test_fixation_lands_where_the_dot_moved(cx, cy, scale):
    """Render a dot image through the view; the mapped fixation is the rendered dot's centre."""
    point = np.array([[52.0, 42.0]])
    image = _blob((96, 128), *point[0], sigma=1.5)
    matrix = view_matrix(cx, cy, scale, (48, 40))
    frame = render(image, matrix, (48, 40))
    mapped = to_frame(point, matrix)[0]
    assert in_frame(to_frame(point, matrix), (48, 40)).all()
    assert np.abs(_centroid(frame) - mapped).max() < (0.02 if scale <= 1 else 0.1)
    peak_yx = np.unravel_index(frame[..., 0].argmax(), frame.shape[:2])
    assert np.abs(np.array(peak_yx) - mapped[::-1]).max() <= 1.0


def test_shot_matrices_stay_inside_and_are_seeded():
    for kind in ("pan", "zoom", "static"):
        a = shot_matrices(np.random.default_rng(1), kind, (120, 160), (48, 40), 8)
        b = shot_matrices(np.random.default_rng(1), kind, (120, 160), (48, 40), 8)
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
        corners = np.array([[-0.5, -0.5, 1], [47.5, 39.5, 1]])
        for m in a:
            xs, ys = (m @ corners.T)
            assert xs.min() >= -0.5 - 1e-6 and xs.max() <= 159.5 + 1e-6 and ys.max() <= 119.5 + 1e-6


def test_simulate_video_round_trip_and_evaluate(tmp_path, blob_dataset, tiny_ckpt, capsys):
    args = ["simulate-video", "--data", str(blob_dataset), "--split", "all", "--clips", "2", "--frames", "6",
            "--size", "48", "40", "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "fixations" / "clip0001.csv").read_text() == \
        (tmp_path / "b" / "fixations" / "clip0001.csv").read_text()
    dataset = open_video_dataset(str(tmp_path / "a"))
    frames = list(dataset.frames("clip0000"))
    assert len(frames) == 6 and frames[0].image.shape == (40, 48, 3) and frames[0].stem == "clip0000/000000"
    assert {f.meta["shot"] for f in frames} == {0, 1}
    assert main(["evaluate", "--data", str(tmp_path / "a"), "--model", str(tiny_ckpt), "--smooth", "0.5",
                 "--json", str(tmp_path / "r.json")]) == 0
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["n_frames"] == 12 and result["n_videos"] == 2 and 0 <= result["auc_judd"] <= 1
    assert result["stability"] is None or result["stability"] > 0


def test_stability_meter():
    a, b = np.eye(4), np.ones((4, 4))
    assert change(a, a) == 0 and change(a, b) == pytest.approx(0.75)
    meter = StabilityMeter()
    for pred, truth, shot in [(a, a, 0), (b, b, 0), (a, b, 0), (b, a, 1)]:
        meter.add(pred, truth, shot)
    assert meter.pairs == 2 and meter.value == pytest.approx(1.5 / 0.75)  # the cut pair is left out


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _frame_folder_clip(clip: Path, n: int, names) -> None:
    for i, img in enumerate(clip_frames(n)):
        fix = np.zeros((48, 64), np.uint8)
        fix[10 + i, 20] = 255
        gt = np.zeros((48, 64), np.uint8)
        gt[5:15, 15:25] = 200
        for sub, arr in (("images", img), ("maps", gt), ("fixation", fix)):
            if sub != "images" or names.get("images", True):
                _png(clip / sub / names["name"](i), arr)


def test_hollywood2_ucf_layout(tmp_path):
    for split in ("training", "testing"):
        _frame_folder_clip(tmp_path / split / f"actioncliptest0000{len(split)}_1", 3,
                           {"name": lambda i: f"actioncliptest_{i + 1:03d}.png"})
    dataset = open_video_dataset(str(tmp_path))
    assert dataset.name == "hollywood2" and dataset.split == "test" and dataset.videos() == ["actioncliptest00007_1"]
    frames = list(dataset.frames("actioncliptest00007_1"))
    assert len(frames) == 3 and frames[2].fixations[:, :2].tolist() == [[20.0, 12.0]]
    assert frames[0].density.sum() == pytest.approx(1.0) and frames[0].density[0, 0] == 0


def test_dhf1k_layout_with_video_files(tmp_path):
    for number in (1, 601):
        _frame_folder_clip(tmp_path / "annotation" / f"{number:04d}", 4,
                           {"name": lambda i: f"{i + 1:04d}.png", "images": False})
        make_clip(tmp_path / "video" / f"{number:03d}.AVI", n=4, codec="mpeg4")
    dataset = open_video_dataset(str(tmp_path))
    assert dataset.name == "dhf1k" and dataset.videos() == ["0601"]  # default split: val (601–700)
    frames = list(dataset.frames("0601"))
    assert len(frames) == 4 and frames[1].image.shape == (48, 64, 3) and frames[1].fixations[0, :2].tolist() == [20, 11]
    assert open_video_dataset(str(tmp_path), split="train").videos() == ["0001"]


def test_ledov_layout(tmp_path):
    clip = tmp_path / "animal_test01"
    make_clip(clip / "animal_test01.mp4", n=6, fps=10)
    fixdata = np.array([[1, 0, 150, 30.0, 20.0], [2, 250, 100, 10.0, 5.0]])  # subject, start ms, dur ms, x, y
    scipy.io.savemat(clip / "Data.mat", {"Data": {"fixdata": fixdata, "VideoFrameRate": 10.0, "VideoFrames": 6,
                                                   "VideoSize": np.array([64, 48])}})
    dataset = open_video_dataset(str(tmp_path))
    frames = list(dataset.frames("animal_test01"))
    counts = [len(f.fixations) for f in frames]
    assert dataset.name == "ledov" and counts == [1, 1, 1, 1, 0, 0]  # 1-based frames 1–2, then 3–4
    assert frames[3].fixations[0].tolist() == [10.0, 5.0, 2.0]


def test_diem_layout(tmp_path):
    clip = tmp_path / "clip_64x48"
    make_clip(clip / "video" / "clip_64x48.mp4", n=5)
    rows = ["1 10 12 3.1 1 14 12 3.0 1", "2 30 20 3.0 2 30 20 3.0 2", "3 40 30 3.0 1 0 0 0 0"]
    (clip / "event_data").mkdir(parents=True)
    (clip / "event_data" / "diem1s01_clip_64x48.txt").write_text("\n".join(rows) + "\n")
    (clip / "event_data" / "diem1s02_clip_64x48.txt").write_text("1 20 20 3 1 20 20 3 1\n")
    dataset = open_video_dataset(str(tmp_path))
    frames = list(dataset.frames("clip_64x48"))
    assert dataset.name == "diem" and len(frames) == 5
    assert sorted(frames[0].fixations[:, :2].tolist()) == [[12.0, 12.0], [20.0, 20.0]]
    assert len(frames[1].fixations) == 0 and frames[2].fixations[:, :2].tolist() == [[40.0, 30.0]]
