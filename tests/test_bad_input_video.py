"""Bad-input suite of video sources (``edgesal predict VIDEO``, video datasets, ``simulate-video``).

Rows are :class:`~bad_input.Case` runs in a fresh world (contract in ``tests/bad_input.py``:
exit code, one ``error:`` line naming the problem, no traceback, nothing written or changed
beyond ``may_write``). Every clip is made with PyAV inside the test (≤ 64×48, ≤ 30 frames).
"""

from __future__ import annotations

import pytest
from bad_input import Case, World, build_world, run_case
from bad_input import write_file as _write
from video_clips import corrupt_packet, interrupt_encoder, make_audio_only, make_clip

from edgesal.cli.main import main


@pytest.fixture
def world(tmp_path, tiny_ckpt, blob_dataset, monkeypatch):
    import edgesal.video.reader as reader

    monkeypatch.setattr(reader, "MAX_FRAME_SIDE", reader.MAX_FRAME_SIDE)  # restored after a case lowers it
    w = build_world(tmp_path / "w", tiny_ckpt, blob_dataset)
    make_clip(w.root / "vids" / "clip.mp4", n=8)
    return w


def _make(rel: str, maker, **kwargs):
    def setup(world: World) -> None:
        (world.root / rel).parent.mkdir(parents=True, exist_ok=True)
        maker(world.root / rel, **kwargs)
    return setup


def _corrupt_clip(world: World) -> None:
    corrupt_packet(make_clip(world.root / "vids" / "bad.avi", n=10, codec="png"), packet=4)


def _max_side_32(world: World) -> None:
    import edgesal.video.reader as reader

    reader.MAX_FRAME_SIDE = 32


P = ["predict"]
M = ["--model", "{ckpt}"]
CASES: list[Case] = [
    Case("video-garbage", [*P, "{w}/vids/junk.mp4", "--out", "{w}/o", *M], r"cannot read video .*junk\.mp4",
         setup=_write("vids/junk.mp4", b"\x00\x00\x00\x18ftypmp42 this is not a video")),
    Case("video-zero-length", [*P, "{w}/vids/empty.mkv", "--out", "{w}/o", *M], r"empty\.mkv.*empty",
         setup=_write("vids/empty.mkv", b"")),
    Case("video-audio-only", [*P, "{w}/vids/audio.mp4", "--out", "{w}/o", *M], r"audio\.mp4 has no video stream",
         setup=_make("vids/audio.mp4", make_audio_only)),
    Case("video-missing", [*P, "{w}/vids/nope.mp4", "--out", "{w}/o", *M], r"not found.*nope\.mp4"),
    Case("video-too-large", [*P, "{w}/vids/clip.mp4", "--out", "{w}/o", *M], r"64×48 exceed.*32",
         setup=_max_side_32),
    Case("video-corrupt-frame", [*P, "{w}/vids/bad.avi", "--out", "{w}/o", *M], r"bad\.avi \(skipped 1 corrupt",
         code=3, setup=_corrupt_clip, may_write=("o/bad/*.png", "o/bad.json")),
    Case("video-out-is-input-folder", [*P, "{w}/vids/clip.mp4", "--out", "{w}/vids", *M], r"input folder"),
    Case("video-stem-clash", [*P, "{w}/vids/clip.mp4", "{w}/other/clip.mkv", "--out", "{w}/o", *M],
         r"clip\.mp4 and .*clip\.mkv would both write", setup=_make("other/clip.mkv", make_clip, n=4)),
    Case("video-stride-0", [*P, "{w}/vids/clip.mp4", "--out", "{w}/o", "--stride", "0"], r"--stride"),
    Case("video-max-frames-0", [*P, "{w}/vids/clip.mp4", "--out", "{w}/o", "--max-frames", "0"], r"--max-frames"),
    Case("video-start-negative", [*P, "{w}/vids/clip.mp4", "--out", "{w}/o", "--start", "-1"], r"--start"),
    Case("video-end-before-start", [*P, "{w}/vids/clip.mp4", "--out", "{w}/o", "--start", "2", "--end", "1", *M],
         r"--end \(1\.0\) must be after --start"),
    Case("video-start-past-end", [*P, "{w}/vids/clip.mp4", "--out", "{w}/o", "--start", "50", "--format",
                                  "overlay", *M], r"no frame in the selected range"),
    Case("video-smooth-0", [*P, "{w}/vids/clip.mp4", "--out", "{w}/o", "--smooth", "0"], r"--smooth"),
    Case("video-smooth-nan", [*P, "{w}/vids/clip.mp4", "--out", "{w}/o", "--smooth", "nan"], r"--smooth"),
    Case("video-option-on-images", [*P, "{w}/imgs", "--out", "{w}/o", "--stride", "2", *M],
         r"apply to video sources only"),
    Case("video-camera-absent", [*P, "camera:97", "--out", "{w}/o", *M], r"camera 97 not found|camera"),
    Case("video-camera-bad-index", [*P, "camera:x", "--out", "{w}/o", *M], r"camera:INDEX"),
    Case("evaluate-smooth-on-images", ["evaluate", "--data", "{w}/data", "--model", "{ckpt}", "--smooth", "0.5"],
         r"--smooth applies to video datasets only"),
    Case("simulate-frames-below-shots", ["simulate-video", "--data", "{w}/data", "--split", "all", "--out",
                                         "{w}/sim", "--frames", "2", "--shots", "3"], r"--frames \(2\).*--shots"),
    Case("simulate-unknown-data", ["simulate-video", "--data", "osei", "--out", "{w}/sim"], r"unknown dataset 'osei'"),
    Case("simulate-video-dataset-as-source", ["simulate-video", "--data", "dhf1k", "--out", "{w}/sim"],
         r"'dhf1k' is a video dataset"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_video(case, world, capsys):
    run_case(case, world, capsys)


def test_interrupted_overlay_leaves_nothing(world, capsys, monkeypatch):
    """Ctrl-C mid-video: exit 130, no overlay, no temporary file, no JSON index."""
    interrupt_encoder(monkeypatch, after=3)
    rc = main(["predict", str(world.root / "vids" / "clip.mp4"), "--out", str(world.root / "o"),
               "--format", "overlay", "--model", str(world.ckpt)])
    assert rc == 130
    leftovers = sorted(p.name for p in (world.root / "o").rglob("*")) if (world.root / "o").exists() else []
    assert leftovers == [], leftovers
