"""The shipped default student: resolves offline, is small, and predicts real saliency."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from shared_paths import shared_or_skip

from edgesal.evaluation import evaluate, predictor_source
from edgesal.model_info import model_info
from edgesal.models.shipped import SHIPPED, shipped_path
from edgesal.predictors import load_predictor


def test_default_is_packaged_small_and_calibrated():
    path = shipped_path("default")
    assert path is not None and path.stat().st_size < 5 * 2**20  # "a few MB"
    facts = model_info("default")
    assert facts["output_kind"] == "log_density" and facts["input_hw"] == [192, 256]
    assert len(facts["sha256"]) == 64 and facts["params"] > 5e5  # 0.91 M after pruning
    from edgesal.models import load_checkpoint

    model, _, meta = load_checkpoint(path)
    assert 0.3 < float(model.head.sharpness) < 1.0  # fitted on validation fixations
    assert meta["calibration"]["val_ll_after"] > meta["calibration"]["val_ll_before"]


def test_every_shipped_name_resolves_offline():
    for name in SHIPPED:
        assert shipped_path(name) is not None, name
        assert load_predictor(name).output_kind == "log_density"


def test_default_beats_center_bias_on_osie():
    shared_or_skip("data", "osie")
    default = evaluate("osie", predictor_source(load_predictor("default")), split="test", limit=12, progress=False)
    center = evaluate("osie", predictor_source(load_predictor("center-bias")), split="test", limit=12,
                      progress=False)
    assert default.means["auc_judd"] > center.means["auc_judd"] + 0.08
    assert default.means["nss"] > 2 * center.means["nss"]
    assert default.means["ll"] > center.means["ll"] + 0.5  # bits per fixation
    assert np.isfinite(default.means["sauc"]) and default.means["sauc"] > 0.6


def test_default_and_fast_are_two_points_of_one_pruning_run():
    from edgesal.models import load_checkpoint

    fast, _spec, meta = load_checkpoint(shipped_path("fast"))
    default, _, default_meta = load_checkpoint(shipped_path("default"))
    assert meta["pruning"]["method"] == "fisher" and meta["pruned_channels"]
    # one trained student: default is the run's 45 % snapshot, fast its end
    assert meta["pruning"]["source"]["sha256"] == default_meta["pruning"]["source"]["sha256"]
    assert meta["pruning"]["pruned_maps"] > default_meta["pruning"]["pruned_maps"]
    fast_flops, default_flops = model_info("fast")["flops"], model_info("default")["flops"]
    assert fast_flops * 1.8 <= default_flops  # 1.8× fewer FLOPs (paper formula) than the pruned default
    assert sum(p.numel() for p in fast.parameters()) < 0.5 * sum(p.numel() for p in default.parameters())
    assert shipped_path("fast").stat().st_size < 3 * 2**20
    depthwise = [m.out_channels for m in fast.modules()
                 if isinstance(m, torch.nn.Conv2d) and m.groups == m.in_channels > 1]
    assert depthwise and all(c % 16 == 0 for c in depthwise)  # SIMD-friendly widths (--channel-multiple 16)


@pytest.mark.parametrize("pruned", ["fast", "nano"])
def test_pruned_students_keep_default_accuracy_on_osie(pruned):
    shared_or_skip("data", "osie")
    means = {name: evaluate("osie", predictor_source(load_predictor(name)), split="test", limit=20,
                            progress=False).means for name in ("default", pruned)}
    assert means[pruned]["auc_judd"] > means["default"]["auc_judd"] - 0.015
    assert means[pruned]["nss"] > 0.9 * means["default"]["nss"]


def test_nano_is_a_3_5x_pruned_default_with_a_quarter_resolution_readout():
    from edgesal.models import load_checkpoint

    nano, spec, meta = load_checkpoint(shipped_path("nano"))
    assert meta["pruning"]["method"] == "fisher" and meta["pruned_channels"]
    assert model_info("nano")["flops"] * 3.5 <= model_info("default")["flops"]
    assert spec.head_kwargs["output_stride"] == 4 and shipped_path("nano").stat().st_size < 2**20
    with torch.no_grad():
        out = nano(torch.zeros(1, 3, *spec.input_hw))
    assert out.shape == (1, 1, spec.input_hw[0] // 4, spec.input_hw[1] // 4)
    depthwise = [m.out_channels for m in nano.modules()
                 if isinstance(m, torch.nn.Conv2d) and m.groups == m.in_channels > 1]
    assert depthwise and all(c % 8 == 0 for c in depthwise)  # --channel-multiple 8


def test_video_is_a_small_temporal_student_run_frame_by_frame():
    from edgesal.models.temporal import is_stateful
    from edgesal.video.temporal import StatefulFrameModel, load_frame_model

    path = shipped_path("video")
    assert path is not None and path.stat().st_size < 2**20  # nano's size: "a few hundred KB"
    facts = model_info("video")
    assert facts["output_kind"] == "log_density" and facts["input_hw"] == [160, 224]
    assert facts["params"] < 200_000 and facts["temporal_cell"] == "gru_lite" and facts["gflops"] < 0.1
    from edgesal.models import load_checkpoint

    model, spec, meta = load_checkpoint(path)
    assert is_stateful(model) and spec.temporal == "gru_lite" and meta["config"]["data_kind"] == "clips"
    # started from nano (its pruned channels) and deployed with nano's quarter-resolution readout
    assert meta["pruned_channels"] and meta["config"]["init"].endswith("nano.pt")
    assert spec.head_kwargs["output_stride"] == 4
    frame_model = load_frame_model("video")
    assert isinstance(frame_model, StatefulFrameModel)
    rng = np.random.default_rng(0)
    frames = [(rng.random((120, 160, 3)) * 255).astype(np.uint8) for _ in range(4)]
    first = [frame_model.predict(f) for f in frames]
    frame_model.reset()
    for a, f in zip(first, frames):
        b = frame_model.predict(f)
        assert b.shape == (120, 160) and abs(float(b.sum()) - 1) < 1e-4
        np.testing.assert_allclose(a, b, atol=1e-7)
