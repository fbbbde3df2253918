"""Video reframing (`edgesal crop VIDEO`): real clips written with the video writer, the shipped
`fast` model, the camera path, shot cuts and the jitter measure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from video_clips import interrupt_encoder

from edgesal.cli.main import main
from edgesal.cropping.cuts import CutDetector
from edgesal.cropping.jitter import path_jitter
from edgesal.cropping.reframe import FRAME_KEYS
from edgesal.video.reader import VideoReader
from edgesal.video.writer import open_video_writer

H, W, FPS = 96, 160, 12
BLOB = 16


def blob_frame(x: int, rng: np.random.Generator, background=(20, 30, 60), y: int = 40) -> np.ndarray:
    """Dark noisy frame with a bright yellow square whose left edge is at ``x``."""
    image = (rng.random((H, W, 3)) * 40 + np.array(background)).astype(np.uint8)
    image[y:y + BLOB, x:x + BLOB] = (250, 240, 60)
    return image


def write_clip(path: Path, xs: list[int], backgrounds: list[tuple[int, int, int]] | None = None) -> Path:
    rng = np.random.default_rng(0)
    with open_video_writer(path, FPS, crf=12) as encoder:
        for t, x in enumerate(xs):
            encoder.write(blob_frame(x, rng, backgrounds[t] if backgrounds else (20, 30, 60)))
    return path


PAN = [8 + 4 * t for t in range(34)]  # the blob's left edge moves 8 → 140 px at 4 px / frame


@pytest.fixture(scope="module")
def panned(tmp_path_factory):
    """A 34-frame panning clip reframed to 9:16 and 1:1 with the shipped `fast` model."""
    root = tmp_path_factory.mktemp("reframe")
    clip = write_clip(root / "pan.mp4", PAN)
    out = root / "out"
    assert main(["crop", str(clip), "--aspect", "9:16", "--aspect", "1:1", "--model", "fast", "--out", str(out)]) == 0
    return clip, out


def test_outputs_size_frames_and_json_keys(panned):
    _, out = panned
    assert sorted(p.name for p in out.iterdir()) == ["pan_1x1.mp4", "pan_1x1.path.json", "pan_9x16.mp4",
                                                      "pan_9x16.path.json"]
    for tag, (w, h) in {"9x16": (54, 96), "1x1": (96, 96)}.items():
        with VideoReader(out / f"pan_{tag}.mp4") as reader:
            assert (reader.info.width, reader.info.height) == (w, h)
            assert reader.info.fps == pytest.approx(FPS)
            assert sum(1 for _ in reader.frames()) == len(PAN)
        doc = json.loads((out / f"pan_{tag}.path.json").read_text())
        assert doc["fps"] == FPS and (doc["width"], doc["height"]) == (W, H) and doc["model"] == "fast"
        assert (doc["crop_width"], doc["crop_height"]) == (w, h) and doc["n_frames"] == len(PAN)
        assert set(doc["path"]) >= {"hold", "max_speed", "max_accel", "median", "hold_px", "median_frames"}
        assert [f["index"] for f in doc["frames"]] == list(range(len(PAN)))
        for frame in doc["frames"]:
            assert tuple(frame) == FRAME_KEYS
            assert (frame["w"], frame["h"]) == (w, h) and frame["cut"] is False
            assert 0 <= frame["x"] <= W - w and frame["y"] == 0
        assert doc["frames"][3]["time"] == pytest.approx(3 / FPS, abs=1e-3)
    assert not list(out.glob(".*.tmp"))


def test_window_follows_the_moving_blob_without_jitter(panned):
    _, out = panned
    doc = json.loads((out / "pan_9x16.path.json").read_text())
    xs = np.array([f["x"] for f in doc["frames"]])
    blob_centre = np.array(PAN) + BLOB / 2
    inside = (blob_centre >= xs) & (blob_centre < xs + 54)
    assert inside.mean() >= 0.8, (xs.tolist(), blob_centre.tolist())
    assert xs[-1] - xs[0] >= 50  # the camera panned right with the blob
    assert np.all(np.diff(xs) >= -3)  # never moved back more than a re-aim at the end
    assert doc["jitter"]["jitter_per_s"] == 0 and doc["jitter"]["reversals"] <= 1
    # the reframed pixels are the source pixels of the window (lossy codec: close, not equal)
    with VideoReader(panned[0]) as src, VideoReader(out / "pan_9x16.mp4") as dst:
        for (a, b), f in zip(zip(src.frames(), dst.frames()), doc["frames"]):
            window = a.image[:, f["x"]:f["x"] + 54].astype(int)
            assert np.abs(window - b.image.astype(int)).mean() < 8


def test_shot_cut_is_detected_and_the_camera_jumps(tmp_path):
    xs = [12] * 16 + [110] * 16  # blob left, then (new shot, other colours) right
    backgrounds = [(20, 30, 60)] * 16 + [(70, 10, 10)] * 16
    clip = write_clip(tmp_path / "cut.mp4", xs, backgrounds)
    out = tmp_path / "out"
    assert main(["crop", str(clip), "--aspect", "9:16", "--model", "fast", "--out", str(out)]) == 0
    doc = json.loads((out / "cut_9x16.path.json").read_text())
    assert [f["index"] for f in doc["frames"] if f["cut"]] == [16] and doc["cut_frames"] == [16]
    before, after = doc["frames"][15], doc["frames"][16]
    assert before["x"] <= 12 + BLOB / 2 < before["x"] + 54
    # jumped towards the blob at the cut, more than 3 frames of the speed limit: no pan across the cut
    assert after["x"] - before["x"] > 3 * doc["path"]["max_speed_px_per_frame"]
    assert after["x"] + 54 > 110 + BLOB / 2 - 30


def test_stride_and_max_frames(tmp_path, panned):
    clip, _ = panned
    out = tmp_path / "o"
    assert main(["crop", str(clip), "--aspect", "9:16", "--model", "fast", "--stride", "2", "--max-frames", "5",
                 "--out", str(out)]) == 0
    doc = json.loads((out / "pan_9x16.path.json").read_text())
    assert [f["index"] for f in doc["frames"]] == [0, 2, 4, 6, 8] and doc["fps"] == FPS / 2
    with VideoReader(out / "pan_9x16.mp4") as reader:
        assert sum(1 for _ in reader.frames()) == 5 and reader.info.fps == pytest.approx(FPS / 2)


def test_images_and_video_in_one_run(tmp_path, panned, blob_dataset):
    out = tmp_path / "o"
    assert main(["crop", str(panned[0]), str(blob_dataset / "stimuli" / "img00.png"), "--aspect", "1:1",
                 "--model", "fast", "--max-frames", "3", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"pan_1x1.mp4", "pan_1x1.path.json", "img00_1x1.png", "crops.json"}


def test_interrupted_reframe_leaves_no_video(tmp_path, panned, monkeypatch):
    interrupt_encoder(monkeypatch, after=5)
    out = tmp_path / "o"
    with pytest.raises(KeyboardInterrupt):
        from edgesal.cropping.reframe import reframe_videos
        from edgesal.cropping.run import check_options

        reframe_videos([str(panned[0])], out, check_options(["9:16", "1:1"], "saliency", 1.0, "png"), model="fast",
                       progress=False)
    assert not out.exists() or not list(out.iterdir())


# --- the jitter measure


def test_straight_pan_and_still_camera_have_no_jitter():
    t = np.arange(48, dtype=float)
    pan = np.column_stack([10 + 3 * t, np.full_like(t, 50)])
    for path in (pan, np.full((48, 2), 7.0)):
        j = path_jitter(path, fps=24)
        assert j.accel == 0 and j.reversals == 0 and j.jitter_per_s == 0 and j.frames == 48


def test_oscillating_path_has_jitter():
    t = np.arange(48)
    shaky = np.column_stack([100 + 4 * (-1.0) ** t, np.full(48, 50.0)])  # ±4 px every frame
    j = path_jitter(shaky, fps=24)
    assert j.accel == pytest.approx(16.0)  # |4 − 2·(−4) + 4| = 16 px/frame²
    assert j.reversals == 46 and j.jitter_reversals == 45 and j.jitter_per_s == pytest.approx(45 / 2.0)


def test_slow_pan_back_is_a_reversal_but_not_jitter():
    x = np.concatenate([np.arange(0, 40, 2.0), np.full(24, 38.0), np.arange(38, 0, -2.0)])
    j = path_jitter(np.column_stack([x, np.zeros_like(x)]), fps=24)
    assert j.reversals == 1 and j.jitter_reversals == 0  # a 1 s hold between: a re-aim, not a shake


def test_cuts_are_excluded_from_jitter():
    x = np.concatenate([np.full(10, 20.0), np.full(10, 200.0)])
    path = np.column_stack([x, np.zeros_like(x)])
    assert path_jitter(path, fps=10, cuts=[10]).accel == 0
    assert path_jitter(path, fps=10).accel > 0


def test_cut_detector_on_pans_and_cuts():
    rng = np.random.default_rng(3)
    detector = CutDetector()
    flags = [detector.update(blob_frame(8 + 3 * t, rng)) for t in range(20)]  # a pan: no cut
    flags += [detector.update(blob_frame(100, rng, background=(160, 100, 30)))]  # new scene
    flags += [detector.update(blob_frame(100 - 2 * t, rng, background=(160, 100, 30))) for t in range(5)]
    assert [i for i, f in enumerate(flags) if f] == [20]
