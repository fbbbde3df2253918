"""Bad-input suite of ``edgesal crop``: aspects, impossible crops, unreadable files, outputs on inputs.

Each row is a :class:`~bad_input.Case` run in a fresh world folder (see ``tests/bad_input.py``
for the contract checked: the exit code, one ``error:`` line naming the problem, no
traceback, nothing written unless allowed, nothing changed). ``{w}/imgs`` holds three
40×56 images im0…im2.png; video cases make their clips with PyAV in ``setup`` (≤ 64×48).
"""

from __future__ import annotations

import pytest
from bad_input import Case, make_image, run_case
from bad_input import write_file as _write
from video_clips import corrupt_packet, make_audio_only, make_clip


def _clip(rel: str, **kwargs):
    return lambda w: make_clip(w.root / rel, **kwargs)


def _audio_only(w) -> None:
    (w.root / "vids").mkdir(parents=True, exist_ok=True)
    make_audio_only(w.root / "vids" / "audio.mp4")


def _corrupt_clip(w) -> None:
    corrupt_packet(make_clip(w.root / "vids" / "bad.avi", n=10, codec="png"), packet=4)


def _crop(*args: str, source: str = "{w}/imgs", out: str = "{w}/o") -> list[str]:
    return ["crop", source, "--model", "{ckpt}", "--out", out, *args]


CASES: list[Case] = [
    # --- aspects
    Case("crop-aspect-0-1", _crop("--aspect", "0:1"), r"--aspect.*'0:1'.*positive"),
    Case("crop-aspect-1-0", _crop("--aspect", "1:0"), r"--aspect.*'1:0'.*positive"),
    Case("crop-aspect-abc", _crop("--aspect", "abc"), r"--aspect.*'abc' is not W:H"),
    Case("crop-aspect-three-parts", _crop("--aspect", "16:9:1"), r"--aspect.*'16:9:1' is not W:H"),
    Case("crop-aspect-negative", _crop("--aspect", "-9:16"), r"--aspect.*'-9:16'.*positive"),
    Case("crop-aspect-nan", _crop("--aspect", "nan:1"), r"--aspect.*'nan:1'.*positive"),
    Case("crop-aspect-good-then-bad", _crop("--aspect", "1:1", "--aspect", "9:"), r"--aspect.*'9:' is not W:H"),
    Case("crop-no-aspect", _crop(), r"missing option.*--aspect"),
    # --- crops that cannot fit the image
    Case("crop-aspect-cannot-fit", _crop("--aspect", "1:1000", source="{w}/imgs/im0.png"),
         r"1:1000 crop of a 56×40 image would be less than 1 px wide"),
    Case("crop-1x1-image-9-16", _crop("--aspect", "9:16", source="{w}/one/dot.png"),
         r"9:16 crop of a 1×1 image would be less than 1 px wide",
         setup=lambda w: make_image(w.root / "one" / "dot.png", (1, 1))),
    Case("crop-folder-cannot-fit", _crop("--aspect", "1000:1"), r"none of the 3 image"),
    # --- options
    Case("crop-zoom-below-1", _crop("--aspect", "1:1", "--zoom", "0.5"), r"--zoom"),
    Case("crop-zoom-nan", _crop("--aspect", "1:1", "--zoom", "nan"), r"--zoom"),
    Case("crop-workers-0", _crop("--aspect", "1:1", "--workers", "0"), r"--workers"),
    Case("crop-threads-neg", _crop("--aspect", "1:1", "--threads", "-1"), r"--threads"),
    Case("crop-bad-method", _crop("--aspect", "1:1", "--method", "smart"), r"--method.*'smart'"),
    Case("crop-unknown-model", ["crop", "{w}/imgs", "--aspect", "1:1", "--out", "{w}/o", "--model", "defualt"],
         r"unknown model 'defualt'.*did you mean 'default'"),
    Case("crop-missing-source", _crop("--aspect", "1:1", source="{w}/nope"), r"not found.*nope"),
    Case("crop-not-an-image", _crop("--aspect", "1:1", source="{w}/notes.txt"), r"notes\.txt"),
    # --- outputs never overwrite inputs
    Case("crop-out-is-input-folder", _crop("--aspect", "1:1", out="{w}/imgs"), r"output folder .* input"),
    Case("crop-out-is-input-file-folder", _crop("--aspect", "1:1", source="{w}/imgs/im0.png", out="{w}/imgs"),
         r"output folder .* input"),
    Case("crop-out-is-a-file", _crop("--aspect", "1:1", out="{w}/notes.txt"), r"notes\.txt is a file"),
    Case("crop-stem-clash-in-folder", _crop("--aspect", "1:1"), r"im0\.(jpg|png).*im0\.(jpg|png)",
         setup=lambda w: make_image(w.root / "imgs" / "im0.jpg")),
    Case("crop-stem-clash-two-folders", ["crop", "{w}/imgs", "{w}/more", "--aspect", "1:1", "--model", "{ckpt}",
                                         "--out", "{w}/o"], r"im1\.png.*im1\.png.*would both write",
         setup=lambda w: make_image(w.root / "more" / "im1.png")),
    # --- videos (edgesal crop VIDEO: reframing)
    Case("crop-video-audio-only", _crop("--aspect", "9:16", source="{w}/vids/audio.mp4"),
         r"audio\.mp4 has no video stream", setup=_audio_only),
    Case("crop-video-zero-length", _crop("--aspect", "9:16", source="{w}/vids/empty.mp4"), r"empty\.mp4.*empty",
         setup=_write("vids/empty.mp4", b"")),
    Case("crop-video-garbage", _crop("--aspect", "9:16", source="{w}/vids/junk.mp4"), r"cannot read video .*junk",
         setup=_write("vids/junk.mp4", b"\x00\x00\x00\x18ftypmp42 this is not a video")),
    Case("crop-video-corrupt-frame", _crop("--aspect", "9:16", source="{w}/vids/bad.avi"),
         r"bad\.avi \(skipped 1 corrupt", code=3, setup=_corrupt_clip,
         may_write=("o/bad_9x16.mp4", "o/bad_9x16.path.json")),
    Case("crop-video-camera", _crop("--aspect", "9:16", source="camera:0"), r"camera:0.*live camera"),
    Case("crop-video-zoom", _crop("--aspect", "9:16", "--zoom", "2", source="{w}/vids/clip.mp4"),
         r"--zoom.*images only", setup=_clip("vids/clip.mp4", n=4)),
    Case("crop-video-preview", _crop("--aspect", "9:16", "--preview", source="{w}/vids/clip.mp4"),
         r"--preview.*images only", setup=_clip("vids/clip.mp4", n=4)),
    Case("crop-video-option-on-images", _crop("--aspect", "9:16", "--stride", "2"), r"apply to video sources only"),
    Case("crop-video-stride-0", _crop("--aspect", "9:16", "--stride", "0", source="{w}/vids/clip.mp4"),
         r"--stride", setup=_clip("vids/clip.mp4", n=4)),
    Case("crop-video-max-speed-0", _crop("--aspect", "9:16", "--max-speed", "0", source="{w}/vids/clip.mp4"),
         r"--max-speed", setup=_clip("vids/clip.mp4", n=4)),
    Case("crop-video-end-before-start", _crop("--aspect", "9:16", "--start", "2", "--end", "1",
                                              source="{w}/vids/clip.mp4"),
         r"--end \(1\.0\) must be after --start", setup=_clip("vids/clip.mp4", n=4)),
    Case("crop-video-start-past-end", _crop("--aspect", "9:16", "--start", "50", source="{w}/vids/clip.mp4"),
         r"no usable frame in the selected range", setup=_clip("vids/clip.mp4", n=4)),
    Case("crop-video-aspect-cannot-fit", _crop("--aspect", "1:1000", source="{w}/vids/clip.mp4"),
         r"1:1000 crop of a 64×48 image would be less than 1 px wide", setup=_clip("vids/clip.mp4", n=4)),
    Case("crop-video-out-is-input-folder", _crop("--aspect", "9:16", source="{w}/vids/clip.mp4", out="{w}/vids"),
         r"input folder", setup=_clip("vids/clip.mp4", n=4)),
    # --- folder runs skip unreadable images, list them and exit 3
    Case("crop-folder-with-bad-image", _crop("--aspect", "1:1", "--aspect", "9:16"),
         r"skipped 1 of 4 image.*broken\.jpg", code=3, may_write=("o/im*_*.png", "o/crops.json"),
         setup=_write("imgs/broken.jpg", b"\xff\xd8\xff garbage")),
    Case("crop-folder-all-bad", _crop("--aspect", "1:1", source="{w}/bad"), r"none of the 2 image",
         setup=lambda w: (_write("bad/a.png", b"x")(w), _write("bad/b.jpg", b"y")(w))),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_crop(case, world, capsys):
    run_case(case, world, capsys)
