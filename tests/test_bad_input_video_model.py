"""Bad-input suite of the temporal student's options (``train`` on clips, stateful export, ``--model``).

Rows are :class:`~bad_input.Case` runs in a fresh world (contract in ``tests/bad_input.py``: exit
code, one ``error:`` line naming the problem, no traceback, nothing written or changed beyond
``may_write``).
"""

from __future__ import annotations

import pytest
import torch
from bad_input import Case, World, build_world, run_case
from bad_input import write_file as _write
from video_clips import make_clip

from edgesal.models import build_model, get_spec, save_checkpoint


@pytest.fixture
def world(tmp_path, tiny_ckpt, blob_dataset):
    w = build_world(tmp_path / "w", tiny_ckpt, blob_dataset)
    make_clip(w.root / "vids" / "clip.mp4", n=6)
    torch.manual_seed(0)
    spec = get_spec("uva_temporal").with_input_hw((32, 64))
    save_checkpoint(w.root / "temporal.pt", build_model(spec), spec)
    return w


def _config(**values: object):
    """A training config file ``cfg.toml``: clip training of the temporal student, overridden by ``values``."""
    base = {"model": "uva_temporal", "data_kind": "clips", "train": ["{w}/sim"], "val": ["{w}/sim"],
            "teacher": "{w}/temporal.pt", "input_hw": [32, 64], "out": "{w}/run", "cache_dir": "{w}/cache",
            "max_steps": 2, "pretrained_backbone": False}
    base.update(values)
    lines = [f"{k} = {str(v).lower() if isinstance(v, bool) else repr(v).replace(chr(39), chr(34))}"
             for k, v in base.items() if v is not None]

    def setup(world: World) -> None:
        text = "\n".join(lines).replace("{w}", str(world.root)) + "\n"
        _write("cfg.toml", text)(world)

    return setup


def _simulated(world: World) -> None:
    from edgesal.video.simulate import SimulationSettings, simulate_videos

    settings = SimulationSettings(frames=4, shots=2, width=64, height=48, seed=0)
    simulate_videos(str(world.root / "data"), world.root / "sim", split="all", clips=1, settings=settings,
                    progress=False)
    _config(clip_frames=9)(world)


T = ["train", "--config", "{w}/cfg.toml"]
SMOOTH = r"teacher_smooth .* must be a number in \(0, 1\]"
CASES: list[Case] = [
    Case("clips-image-model", T, r"temporal students; uva_tiny_readout has no temporal cell",
         setup=_config(model="uva_tiny_readout", input_hw=[64, 64])),
    Case("clips-no-teacher", T, r"needs a teacher", setup=_config(teacher=None)),
    Case("clips-teacher-smooth-0", T, SMOOTH, setup=_config(teacher_smooth=0)),
    Case("clips-teacher-smooth-2", T, SMOOTH, setup=_config(teacher_smooth=2)),
    Case("clips-unknown-data-kind", T, r"data_kind .* must be one of images, clips", setup=_config(data_kind="frames")),
    Case("clips-frames-0", T, r"clip_frames .* integer ≥ 1", setup=_config(clip_frames=0)),
    Case("clips-per-source-0", T, r"clips_per_source .* integer ≥ 1", setup=_config(clips_per_source=0)),
    Case("clips-source-missing", T, r"video dataset not found", setup=_config(train=["{w}/nowhere"])),
    Case("clips-window-longer-than-clips", T, r"clip_frames 9 is longer than the clips \(4 frames\)",
         setup=_simulated, may_write=("sim/*", "sim/*/*", "cache/*")),
    Case("export-temporal-tflite-int8-io", ["export", "--model", "{w}/temporal.pt", "--target", "tflite", "--int8",
                                           "--opt", "io=int8", "--out", "{w}/exp", "--calib", "{w}/imgs"],
         r"io=int8 is not available for a stateful"),
    Case("predict-temporal-smooth-2", ["predict", "{w}/vids/clip.mp4", "--out", "{w}/o", "--model",
                                       "{w}/temporal.pt", "--smooth", "2"], r"--smooth"),
    Case("evaluate-temporal-untrained", ["evaluate", "--data", "{w}/sim", "--model", "uva_temporal"],
         r"architecture without trained weights", setup=_simulated),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, world: World, capsys):
    run_case(case, world, capsys)
