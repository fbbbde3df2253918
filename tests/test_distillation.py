"""Every distillation method reachable from ``edgesal train``: FastSal eq. 3 as written, Zhang
et al.'s feature statistics as a training term, hint pretraining from edgesal and exported
(ONNX, named tensors) teachers, and their config keys. Tiny models, a few steps each."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from edgesal.cli.main import main
from edgesal.losses import get_loss
from edgesal.losses.fastsal import cc_uncentred, fastsal_eq3_paper_loss
from edgesal.models import build_model, get_spec, load_checkpoint
from edgesal.training.arrays import load_training_arrays
from edgesal.training.config import TrainConfig
from edgesal.training.distill import FeatureDistillation, level_pairs
from edgesal.training.feature_teachers import load_feature_teacher
from edgesal.training.trainer import train

STUDENT = "uva_tiny_readout"


def _cfg(data: Path, tmp: Path, **kw) -> TrainConfig:
    base = dict(model=STUDENT, train=[f"{data}:train"], val=[f"{data}:val"], batch=4, lr=3e-3, val_every=2,
                patience=100, pretrained_backbone=False, out=str(tmp / "run"), cache_dir=str(tmp / "cache"),
                threads=1, max_steps=3)
    base.update(kw)
    return TrainConfig().updated(base)


# ------------------------------------------------------------------ FastSal eq. 3 as written


def test_eq3_paper_matches_hand_computed_2x2():
    z = torch.tensor([[[[0.0, math.log(3.0)], [0.0, 0.0]]]])  # softmax: P = (1/6, 1/2, 1/6, 1/6)
    t = torch.tensor([[[[0.0, 1.0], [1.0, 2.0]]]])  # T = t / 4 = (0, 1/4, 1/4, 1/2); mm(t) = (0, .5, .5, 1)
    p = np.array([1 / 6, 1 / 2, 1 / 6, 1 / 6])
    q = np.array([0.0, 0.25, 0.25, 0.5])
    kl = sum(qi * math.log(qi / pi) for qi, pi in zip(q, p) if qi > 0)
    cc = float(p @ q / math.sqrt((p @ p) * (q @ q)))  # the paper's (uncentred) CC
    s = 1 / (1 + np.exp(-np.array([0.0, math.log(3.0), 0.0, 0.0])))  # sigmoid(z) = (.5, .75, .5, .5)
    y = np.array([0.0, 0.5, 0.5, 1.0])
    bce = float(np.mean(-(y * np.log(s) + (1 - y) * np.log(1 - s))))
    expected = 0.5 * kl + 0.2 * (1 - cc) + 0.3 * bce
    got = fastsal_eq3_paper_loss(z, t)
    assert abs(float(got) - expected) < 1e-6, (float(got), expected)
    assert abs(kl - 0.4773856262211097) < 1e-12 and abs(cc - 0.7071067811865475) < 1e-12
    # the registered loss reads the teacher from the batch, and falls back to the GT density without one
    batch = {"teacher": t[:, 0], "density": torch.ones(1, 2, 2), "fixation_map": torch.zeros(1, 2, 2)}
    assert abs(float(get_loss("fastsal_eq3_paper")(z, batch)) - expected) < 1e-6
    assert abs(float(get_loss("fastsal_eq3_paper")(z, {**batch, "teacher": None, "density": t[:, 0]}))
               - expected) < 1e-6


def test_eq3_paper_differs_from_edgesal_variant_and_cc_is_uncentred():
    torch.manual_seed(0)
    z, t, gt = torch.randn(2, 1, 3, 3), torch.rand(2, 1, 3, 3), torch.rand(2, 1, 3, 3)
    batch = {"teacher": t[:, 0], "density": gt[:, 0], "fixation_map": torch.zeros(2, 3, 3)}
    paper, variant = get_loss("fastsal_eq3_paper")(z, batch), get_loss("fastsal_kl_cc_bce")(z, batch)
    assert abs(float(paper) - float(variant)) > 1e-3
    # the paper's loss ignores the GT when a teacher is there
    assert float(get_loss("fastsal_eq3_paper")(z, {**batch, "density": torch.rand(2, 3, 3)})) == float(paper)
    a = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    assert abs(float(cc_uncentred(a, a + 10.0)) - 1.0) > 0.01  # not shift-invariant (Pearson would give 1)
    assert abs(float(cc_uncentred(a, 3.0 * a)) - 1.0) < 1e-6


# ------------------------------------------------------------------ Zhang statistics / hint as a term


def test_level_pairs():
    assert level_pairs(4, 4, None, True) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    assert level_pairs(4, 2, None, False) == [(2, 0), (3, 1)]
    assert level_pairs(4, 4, [1, 3], True) == [(1, 1), (3, 3)]
    assert level_pairs(4, 2, [0, 2], False) == [(0, 0), (2, 1)]
    from edgesal.errors import EdgesalError

    with pytest.raises(EdgesalError, match="levels 0…3"):
        level_pairs(4, 4, [4], True)
    with pytest.raises(EdgesalError, match="one layer per tensor"):
        level_pairs(4, 2, [1], False)


def test_stats_term_gradients_reach_student_and_adapters(tiny_ckpt):
    spec = get_spec("fastsal_a_mnv2")  # a student with other channel counts than the tiny teacher: adapters
    spec = spec.with_input_hw((64, 64))
    torch.manual_seed(0)
    student = build_model(spec, pretrained_backbone=False)
    term = FeatureDistillation(student, spec, load_feature_teacher(str(tiny_ckpt), spec), "stats", weight=1.0)
    assert term.pairs and any(p.requires_grad for p in term.parameters())
    x = torch.randn(2, 3, 64, 64)
    base = student(x).float().mean() * 0
    loss = term.wrap(lambda out, b: base)(None, {"image": x})
    loss.backward()
    assert torch.isfinite(loss) and float(loss.detach()) > 0
    grads = [p.grad for p in student.backbone.parameters() if p.grad is not None]
    assert grads and max(float(g.abs().max()) for g in grads) > 0
    assert all(p.grad is not None for p in term.parameters())
    term.close()


def test_train_with_stats_distillation_records_term_and_resumes(blob_dataset, tmp_path, tiny_ckpt):
    cfg = _cfg(blob_dataset, tmp_path, distill="stats", distill_teacher=str(tiny_ckpt), distill_weight=0.5,
               feature_layers=[1, 2, 3], max_steps=4)
    result = train(cfg, progress=False, stop_after=2)
    assert result.steps == 2
    resumed = train(cfg, resume=True, progress=False)
    assert resumed.steps == 4 and math.isfinite(resumed.best_val)
    _, _, meta = load_checkpoint(tmp_path / "run" / "last.pt")
    assert meta["distill"]["term"] == "stats" and meta["distill"]["pairs"] == [[1, 1], [2, 2], [3, 3]]
    assert meta["config"]["distill_weight"] == 0.5
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert "aux" in state  # the adapters/loss state travels with last.pt


def test_train_with_eq3_paper_loss_on_sigmoid_student(blob_dataset, tmp_path):
    spec = get_spec("fastsal_a_mnv2")
    cfg = _cfg(blob_dataset, tmp_path, model="fastsal_a_mnv2", input_hw=[64, 64], loss="fastsal_eq3_paper",
               max_steps=2)
    assert spec.output_kind != "log_density"  # a sigmoid head: eq. 3 reads its raw scores
    result = train(cfg, progress=False)
    assert result.steps == 2 and math.isfinite(result.best_val)


# ------------------------------------------------------------------ hint pretraining from any teacher


def _arrays(blob_dataset, tmp_path):
    spec = get_spec(STUDENT)
    return spec, load_training_arrays([f"{blob_dataset}:train"], spec.input_hw, tmp_path / "c", progress=False)


def test_hint_from_architecture_name(blob_dataset, tmp_path):
    from edgesal.training.hint import hint_pretrain

    spec, arrays = _arrays(blob_dataset, tmp_path)
    torch.manual_seed(1)
    losses = hint_pretrain(build_model(spec), spec, "uva_tiny", arrays, steps=20, batch=4, lr=1e-2,
                           progress=False)
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-4:]) < np.mean(losses[:4])


TEACHER_NORM = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])  # not the student's 0.5 / 0.5


@pytest.fixture(scope="module")
def conv_onnx(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    """A tiny ONNX teacher built with onnx.helper (32×32 input, ImageNet normalisation in its
    edgesal metadata): conv → relu ``feat1`` (stride 2) → conv → relu ``feat2`` (stride 4) → output."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32), rng.normal(0, 0.3, (8, 4, 3, 3)).astype(np.float32),
               rng.normal(0, 0.3, (1, 8, 1, 1)).astype(np.float32)]
    nodes = [helper.make_node("Conv", ["input", "w1"], ["conv1"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["conv1"], ["feat1"]),
             helper.make_node("Conv", ["feat1", "w2"], ["conv2"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["conv2"], ["feat2"]),
             helper.make_node("Conv", ["feat2", "w3"], ["output"])]
    graph = helper.make_graph(nodes, "teacher", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                               [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, 8, 8])],
                              [numpy_helper.from_array(w, f"w{i + 1}") for i, w in enumerate(weights)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"edgesal": json.dumps({"input_hw": [32, 32], "mean": TEACHER_NORM[0],
                                                          "std": TEACHER_NORM[1], "layout": "nchw"})})
    path = tmp_path_factory.mktemp("onnx_teacher") / "teacher.onnx"
    onnx.save(model, str(path))
    return path, weights


def test_onnx_teacher_named_tensors_match_torch_and_train(blob_dataset, tmp_path, conv_onnx):
    import torch.nn.functional as F

    from edgesal.training.hint import hint_pretrain

    path, (w1, w2, _) = conv_onnx
    spec, arrays = _arrays(blob_dataset, tmp_path)  # a 64×64 student normalised with 0.5 / 0.5
    teacher = load_feature_teacher(str(path), spec, tensors=["feat1", "feat2"])
    x = torch.randn(2, 3, *spec.input_hw)
    feat1, feat2 = teacher(x)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in TEACHER_NORM)
    ref = F.interpolate(((x * 0.5 + 0.5) - mean) / std, size=(32, 32), mode="bilinear", align_corners=False)
    ref1 = F.relu(F.conv2d(ref, torch.from_numpy(w1), stride=2, padding=1))
    ref2 = F.relu(F.conv2d(ref1, torch.from_numpy(w2), stride=2, padding=1))
    assert feat1.shape == (2, 4, 16, 16) and feat2.shape == (2, 8, 8, 8)
    assert torch.allclose(feat1, ref1, atol=1e-4) and torch.allclose(feat2, ref2, atol=1e-4)
    torch.manual_seed(1)
    losses = hint_pretrain(build_model(spec), spec, str(path), arrays, steps=15, batch=4, lr=1e-2,
                           progress=False, tensors=["feat1", "feat2"])
    assert all(math.isfinite(v) for v in losses) and np.mean(losses[-3:]) < np.mean(losses[:3])


def test_tflite_teacher_named_tensors_are_nchw_features_and_train(blob_dataset, tmp_path):
    from shared_paths import shared_or_skip

    from edgesal.runtimes.litert import LiteRTSession
    from edgesal.training.hint import hint_pretrain

    path = shared_or_skip("weights", "glimpse", "model.tflite")  # 176×176 input; Add_1 (1, 22, 22, 16) NHWC
    spec, arrays = _arrays(blob_dataset, tmp_path)
    teacher = load_feature_teacher(str(path), spec, tensors=["Add_1", "Add_6", "Sigmoid"])
    x = torch.randn(2, 3, *spec.input_hw)
    add1, add6, sigmoid = teacher(x)
    assert add1.shape == (2, 16, 22, 22) and add6.shape == (2, 64, 11, 11)
    session = LiteRTSession(path)  # the model's own output, from a plain session on the resized batch
    big = torch.nn.functional.interpolate(x, size=(176, 176), mode="bilinear", align_corners=False)
    ref = np.concatenate([session.invoke(session.prepare(xi[None].numpy())) for xi in big])
    assert np.allclose(sigmoid.numpy().transpose(0, 2, 3, 1).reshape(ref.shape), ref, atol=1e-5)
    from edgesal.errors import EdgesalError

    with pytest.raises(EdgesalError, match=r"no tensor named 'Add_77' \(close matches: Add_7"):
        load_feature_teacher(str(path), spec, tensors=["Add_77"])
    losses = hint_pretrain(build_model(spec), spec, str(path), arrays, steps=4, batch=2, lr=1e-2,
                           progress=False, tensors=["Add_1", "Add_6"])
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)


def test_train_cli_hint_from_onnx_then_unknown_tensor_exits_2(blob_dataset, tmp_path, conv_onnx, capsys):
    path, _ = conv_onnx
    argv = ["train", "--model", STUDENT, "--data", f"{blob_dataset}:train", "--val", f"{blob_dataset}:val",
            "--cache-dir", str(tmp_path / "cache"), "--no-pretrained", "--max-steps", "2", "--threads", "1",
            "--hint-teacher", str(path), "--hint-steps", "2", "--feature-layers", "1,2"]
    assert main([*argv, "--out", str(tmp_path / "ok"), "--hint-tensors", "feat1,feat2"]) == 0
    _, _, meta = load_checkpoint(tmp_path / "ok" / "last.pt")
    assert len(meta["hint_losses"]) == 2 and all(math.isfinite(v) for v in meta["hint_losses"])
    capsys.readouterr()
    code = main([*argv, "--out", str(tmp_path / "bad"), "--hint-tensors", "feat1,feat7"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "no tensor named 'feat7'" in err and "close matches:" in err and "feat1" in err and "feat2" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "bad" / "best.pt").exists()


@pytest.mark.parametrize("argv, message", [
    (["--distill", "stats"], "needs --distill-teacher"),
    (["--distill-teacher", "default"], "only with --distill"),
    (["--hint-tensors", "a,b"], "--hint-teacher, which is not set"),
    (["--feature-layers", "1,x"], "comma-separated list of levels"),
])
def test_distill_option_errors_exit_2(argv, message, tmp_path, capsys):
    code = main(["train", "--model", STUDENT, "--out", str(tmp_path / "run"), *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err, err


# ------------------------------------------------------------------ config file


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_config_round_trip_of_distillation_keys(tmp_path, suffix):
    values = {"distill": "stats", "distill_teacher": "default", "distill_weight": 0.25,
              "feature_layers": [1, 2, 3], "hint_teacher": "t.onnx", "hint_tensors": ["a", "b/c:0"],
              "hint_steps": 7, "loss": "fastsal_eq3_paper"}
    cfg = TrainConfig().updated(values)
    path = tmp_path / f"cfg{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(cfg.to_dict()))
    else:
        path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()))
    again = TrainConfig.from_file(path)
    assert again == cfg
    assert {k: again.to_dict()[k] for k in values} == values


@pytest.mark.parametrize("key, value, message", [
    ("distill", "zhang", "one of stats, hint"),
    ("distill_weight", 0, "a number > 0"),
    ("feature_layers", [1, -1], "backbone levels"),
    ("hint_tensors", [""], "tensor names"),
])
def test_config_rejects_bad_distillation_values(key, value, message):
    from edgesal.errors import EdgesalError

    with pytest.raises(EdgesalError, match=message):
        TrainConfig().updated({key: value})
