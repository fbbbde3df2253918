"""The temporal student: state handling, frame models, clip training data, stateful export parity.

Everything runs on an untrained, seeded tiny ``uva_temporal`` at 32×64 (fast); the shipped
``video`` is checked in tests/test_shipped.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from video_clips import clip_frames

from edgesal.models import build_model, get_spec, save_checkpoint
from edgesal.models.temporal import export_signature, is_stateful

HW = (32, 64)


def tiny_temporal(seed: int = 0):
    torch.manual_seed(seed)
    spec = get_spec("uva_temporal").with_input_hw(HW)
    model = build_model(spec).eval()
    with torch.no_grad():  # a gate that depends on the input, maps that depend on the features
        model.cell.pw.weight.normal_(0, 0.5)
        model.head.readout[-1].weight.mul_(100)
    return model, spec


@pytest.fixture(scope="module")
def temporal_ckpt(tmp_path_factory):
    model, spec = tiny_temporal()
    return save_checkpoint(tmp_path_factory.mktemp("temporal") / "tiny_video.pt", model, spec)


def test_frame_by_frame_equals_the_clip_and_reset_restarts():
    model, _ = tiny_temporal()
    clip = torch.randn(1, 5, 3, *HW)
    with torch.no_grad():
        unrolled = model(clip)  # (5, 2, H, W): fused, spatial
        state, stepped = model.initial_state(HW)[0], []
        for t in range(5):
            out, state = model(clip[:, t], state)
            stepped.append(out)
        again, _ = model(clip[:, 0], model.initial_state(HW)[0])
        image = model(clip[:, 0])
    stepped = torch.cat(stepped)
    assert unrolled.shape == (5, 2, *HW) and state.shape == model.state_shapes(HW)[0]
    torch.testing.assert_close(stepped, unrolled[:, :1], atol=1e-5, rtol=1e-5)
    # a reset (zero) state: the first frame's map is the spatial path's, and the image model's
    torch.testing.assert_close(again, unrolled[:1, 1:], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(image, again)
    assert not torch.allclose(stepped[3], unrolled[3, 1:])  # later frames do use the state
    assert torch.allclose(stepped.exp().sum(dim=(1, 2, 3)), torch.ones(5), atol=1e-4)  # log densities


def test_export_signature_names_the_state():
    model, _ = tiny_temporal()
    examples, inputs, outputs = export_signature(model, HW)
    assert inputs == ["input", "state"] and outputs == ["output", "state_out"]
    assert examples[1].shape == model.state_shapes(HW)[0] and not examples[1].any()
    image_model = build_model(get_spec("uva_tiny_readout"))
    assert not is_stateful(image_model) and export_signature(image_model, (64, 64))[1:] == (["input"], ["output"])


def test_frame_model_carries_state_and_resets_per_clip(temporal_ckpt):
    from edgesal.video.temporal import StatefulFrameModel, load_frame_model

    frame_model = load_frame_model(str(temporal_ckpt))
    assert isinstance(frame_model, StatefulFrameModel)
    frames = clip_frames(6, (48, 64))
    first = [frame_model.predict(f) for f in frames]
    frame_model.reset()
    second = [frame_model.predict(f) for f in frames]
    for a, b in zip(first, second):
        np.testing.assert_allclose(a, b, atol=1e-6)
        assert a.shape == (48, 64) and abs(a.sum() - 1) < 1e-4
    frame_model.reset()
    frame_model.predict(frames[3])
    assert not np.allclose(frame_model.predict(frames[4]), first[4], rtol=1e-5, atol=0)  # history matters


def test_image_models_still_run_per_frame(tiny_ckpt):
    from edgesal.video.frame_models import PerFrameModel
    from edgesal.video.temporal import load_frame_model

    assert isinstance(load_frame_model(str(tiny_ckpt), smooth=0.5), PerFrameModel)


def test_clip_batches_are_windows_of_consecutive_frames():
    from edgesal.video.training import ClipArrays, ClipStream, coupled_distillation

    n, t, (h, w) = 3, 6, HW
    rng = np.random.default_rng(0)
    arrays = ClipArrays(rng.integers(0, 255, (n, t, h, w, 3), dtype=np.uint8),
                        (rng.random((n, t, h, w)) > 0.98).astype(np.float16), np.zeros((n, t), np.int32),
                        rng.random((n, t, h, w)).astype(np.float16), rng.random((n, t, h, w)).astype(np.float16))
    model, spec = tiny_temporal()
    stream = ClipStream(arrays, spec, batch=2, length=4, seed=0, hflip=True)
    batch = stream.get(5)
    assert batch["image"].shape == (2, 4, 3, h, w) and batch["teacher"].shape == (8, h, w)
    for key in ("image", "teacher", "fixation_map"):
        torch.testing.assert_close(batch[key], stream.get(5)[key])  # deterministic by step (resumable)
    loss = coupled_distillation(model(batch["image"]), batch)
    assert torch.isfinite(loss) and loss.requires_grad


def _calibration_images(folder, n: int = 6):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(clip_frames(n, (48, 64))):
        Image.fromarray(frame).save(folder / f"f{i:02d}.png")
    return folder


def _export(ckpt, tmp_path, target: str, precisions: tuple[str, ...] = ("fp32",)):
    """Export the tiny temporal checkpoint; parity over 6 frames in order, state carried."""
    from edgesal.export.pipeline import ExportRequest, export_model

    calib = _calibration_images(tmp_path / "frames")
    request = ExportRequest(model=str(ckpt), targets=(target,), precisions=precisions, calib=str(calib),
                            parity_data=None, parity_images=6, out=str(tmp_path / "exp"))
    results = export_model(request)
    for result in results:
        assert result.passed, result.parity.failures
    return results[0] if len(results) == 1 else results


def test_stateful_onnx_export_passes_parity_over_a_clip(temporal_ckpt, tmp_path):
    pytest.importorskip("onnxruntime")
    from edgesal.export.parity import preprocess_samples, torch_outputs
    from edgesal.runtimes import load_runtime

    result = _export(temporal_ckpt, tmp_path, "onnx")
    assert result.parity.images == 6 and result.metadata["state"][0]["input"] == "state"
    session = load_runtime(result.path)
    assert session.stateful and session.state_pairs == [("state", "state_out")]
    model, _ = tiny_temporal()
    from edgesal.export.parity import ParitySample

    clip = preprocess_samples([ParitySample(str(i), f) for i, f in enumerate(clip_frames(6, (48, 64)))],
                              get_spec("uva_temporal").with_input_hw(HW))
    reference = torch_outputs(model, clip)
    np.testing.assert_allclose(session.run(clip), reference, atol=1e-4)
    session.reset_state()  # the bench's timed call (invoke) carries the state too
    stepped = np.concatenate([session.maps(x[None]) for x in clip])
    np.testing.assert_allclose(stepped, reference[:, 0], atol=1e-4)


def test_stateful_openvino_export_passes_parity(temporal_ckpt, tmp_path):
    pytest.importorskip("openvino")
    result = _export(temporal_ckpt, tmp_path, "openvino")
    from edgesal.video.temporal import load_frame_model

    frame_model = load_frame_model(str(result.path))
    torch_model = load_frame_model(str(temporal_ckpt))
    for frame in clip_frames(4, (48, 64)):
        np.testing.assert_allclose(frame_model.predict(frame), torch_model.predict(frame), atol=1e-5)


def test_stateful_tflite_export_fp32_and_int8_carry_the_state(temporal_ckpt, tmp_path):
    pytest.importorskip("litert_torch")
    from edgesal.export.parity import ParitySample, preprocess_samples, torch_outputs
    from edgesal.export.tflite_metadata import STANDARD_KEY
    from edgesal.runtimes import load_runtime
    from edgesal.runtimes.litert import metadata_entry

    fp32, int8 = _export(temporal_ckpt, tmp_path, "tflite", ("fp32", "int8"))
    model, spec = tiny_temporal()
    frames = clip_frames(6, (48, 64))
    # a static clip is a fixed point of the cell (h = c), so the state shows after a change: frame A
    # again after its negative must not give A's fresh map
    a, b = frames[0], 255 - frames[0]
    cut = preprocess_samples([ParitySample(str(i), f) for i, f in enumerate((a, b, b, a))], spec)
    moving = preprocess_samples([ParitySample(str(i), f) for i, f in enumerate(frames)], spec)
    with torch.no_grad():
        torch_state = model.initial_state(HW)[0]
        for x in torch.from_numpy(cut):
            torch_state = model(x[None], torch_state)[1]
    torch_state = torch_state.numpy()
    for result, atol in ((fp32, 1e-4), (int8, None)):
        assert result.parity.images == 6 and result.metadata["state"][0]["input"] == "state"
        session = load_runtime(result.path)
        assert session.stateful and session.state_pairs == [("state", "state_out")]
        assert session.state_shapes["state"] == tuple(model.state_shapes(HW)[0]) and session.layout == "nhwc"
        for clip in (cut, moving):
            reference, got = torch_outputs(model, clip), session.run(clip)
            if atol:  # fp32: torch's frame-by-frame outputs
                np.testing.assert_allclose(got, reference, atol=atol)
            else:  # int8: each frame correlates with torch's
                for g, r in zip(got, reference):
                    assert np.corrcoef(g.ravel(), r.ravel())[0, 1] > 0.98
        got = session.run(cut)  # the state carried out of frame A after its negative is not A's fresh one
        session.run(cut[:1])
        fresh = session.state["state"]
        session.run(cut)
        scale = np.abs(fresh[:, :-1]).max()  # the untrained tiny model's features are small: compare relative
        assert scale > 0 and np.abs(session.state["state"] - fresh).max() > 0.1 * scale
        if atol:
            np.testing.assert_allclose(session.state["state"], torch_state, atol=0.01 * scale)
        session.reset_state()  # the bench's timed call (invoke) carries the state too
        np.testing.assert_allclose(np.concatenate([session.maps(x[None]) for x in cut]), got[:, 0], atol=1e-5)
        standard = metadata_entry(result.path.read_bytes(), STANDARD_KEY)
        assert b"recurrent state" in standard and b"state_out" in standard


def test_clip_training_is_resumable(temporal_ckpt, blob_dataset, tmp_path):
    from edgesal.models import load_checkpoint
    from edgesal.training.config import TrainConfig
    from edgesal.training.trainer import train
    from edgesal.video.simulate import SimulationSettings, simulate_videos

    settings = SimulationSettings(frames=6, shots=2, width=64, height=48, seed=0)
    simulate_videos(str(blob_dataset), tmp_path / "sim", split="all", clips=2, settings=settings, progress=False)
    base = {"model": "uva_temporal", "data_kind": "clips", "train": [str(tmp_path / "sim")],
            "val": [str(tmp_path / "sim")], "teacher": str(temporal_ckpt), "loss": "coupled_distillation",
            "input_hw": (32, 64), "clip_frames": 4, "batch": 2, "max_steps": 4, "val_every": 2,
            "pretrained_backbone": False, "cache_dir": str(tmp_path / "cache"), "threads": 1}
    straight = train(TrainConfig().updated({**base, "out": str(tmp_path / "a")}), progress=False)
    resumed_cfg = TrainConfig().updated({**base, "out": str(tmp_path / "b")})
    train(resumed_cfg, progress=False, stop_after=2)
    resumed = train(resumed_cfg, resume=True, progress=False)
    assert straight.steps == resumed.steps == 4 and len(list((tmp_path / "cache").glob("clips_*.npz"))) == 1
    a, _, _ = load_checkpoint(tmp_path / "a" / "last.pt")
    b, _, _ = load_checkpoint(tmp_path / "b" / "last.pt")
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(x, y, msg=name)


def test_a_temporal_student_starts_from_an_image_checkpoint(tiny_ckpt, blob_dataset, tmp_path):
    """``temporal = "gru_lite"`` + ``init``: the image model's weights load, the cell is new, the
    input size may change (the centre bias is resampled), and clip training then runs."""
    from edgesal.models import load_checkpoint
    from edgesal.training.config import TrainConfig
    from edgesal.training.trainer import train
    from edgesal.video.simulate import SimulationSettings, simulate_videos

    settings = SimulationSettings(frames=6, shots=2, width=64, height=48, seed=0)
    simulate_videos(str(blob_dataset), tmp_path / "sim", split="all", clips=2, settings=settings, progress=False)
    cfg = TrainConfig().updated({
        "init": str(tiny_ckpt), "temporal": "gru_lite", "data_kind": "clips", "train": [str(tmp_path / "sim")],
        "val": [str(tmp_path / "sim")], "teacher": str(tiny_ckpt), "loss": "coupled_distillation",
        "input_hw": (32, 64), "clip_frames": 4, "batch": 2, "max_steps": 2, "val_every": 2,
        "cache_dir": str(tmp_path / "cache"), "threads": 1, "out": str(tmp_path / "run")})
    result = train(cfg, progress=False)
    assert result.steps == 2
    trained, spec, _ = load_checkpoint(tmp_path / "run" / "last.pt")
    image_model, image_spec, _ = load_checkpoint(tiny_ckpt)
    assert is_stateful(trained) and spec.temporal == "gru_lite" and spec.input_hw == (32, 64)
    assert image_spec.input_hw != spec.input_hw  # the centre bias was stored at another size
    assert trained.head.log_center_bias.shape[-2:] == (32, 64)
    assert torch.logsumexp(trained.head.log_center_bias.flatten(), 0).abs() < 1e-4

    # before training, the first frame of a clip is exactly the image model at the new size
    from edgesal.training.trainer import training_spec

    start, _, _ = load_checkpoint(tiny_ckpt, respec=lambda s: training_spec(cfg, s))
    x = torch.randn(1, 3, 32, 64)
    with torch.no_grad():
        torch.testing.assert_close(start(x), image_model(x), atol=1e-4, rtol=1e-4)


def test_temporal_option_errors_are_one_line(tiny_ckpt, temporal_ckpt, tmp_path):
    from edgesal.errors import EdgesalError
    from edgesal.training.config import TrainConfig
    from edgesal.training.trainer import _resolve_spec

    with pytest.raises(EdgesalError, match="unknown temporal cell 'gru_lit'.*did you mean 'gru_lite'"):
        _resolve_spec(TrainConfig().updated({"init": str(tiny_ckpt), "temporal": "gru_lit"}))
    spec, _, _ = _resolve_spec(TrainConfig().updated({"init": str(temporal_ckpt), "temporal": "gru_lite"}))
    assert spec.temporal == "gru_lite"  # already temporal: the same cell is fine
