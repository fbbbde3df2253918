"""Hand-checked values for edgesal.losses."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from edgesal.errors import EdgesalError
from edgesal.losses import (
    LOSSES,
    FeatureStatisticsLoss,
    HintLoss,
    channel_attention,
    correlation_coefficient,
    covariance,
    density_cross_entropy,
    fastsal_bce_loss,
    fastsal_kl_cc_bce_loss,
    first_order_loss,
    fixation_nll,
    get_loss,
    gram_matrix,
    kl_divergence,
    log_softmax_2d,
    minmax_normalise,
    second_order_loss,
    spatial_attention,
    theis_distillation_loss,
)

torch.manual_seed(0)


def uniform_log_density(b: int, h: int, w: int) -> torch.Tensor:
    return torch.full((b, 1, h, w), -math.log(h * w))


# ---------------------------------------------------------------- fixation.py


def test_nll_uniform_is_log_num_pixels():
    # p = 1/(H*W) everywhere -> -log p = log(3*4) = log 12 = 2.4849 nats per fixation.
    logp = uniform_log_density(2, 3, 4)
    fix = torch.zeros(2, 3, 4)
    fix[0, 0, 0] = 1
    fix[1, 2, 3] = 2  # counts
    fix[1, 1, 1] = 1
    assert fixation_nll(logp, fix).item() == pytest.approx(math.log(12), abs=1e-6)
    # bits: log2(12) = 3.585
    assert fixation_nll(logp, fix, bits=True).item() == pytest.approx(math.log2(12), abs=1e-6)


def test_nll_hand_computed_counts_and_mean_over_images():
    # image 0: p = [0.5, 0.25, 0.125, 0.125], fixations 2x on pixel 0, 1x on pixel 2:
    #   (-2 log .5 - log .125) / 3 = (2 ln2 + 3 ln2) / 3 = 5/3 ln2
    # image 1: same p, one fixation on pixel 1: -log .25 = 2 ln2
    # mean over images = (5/3 + 2)/2 ln2 = 11/6 ln2
    p = torch.tensor([0.5, 0.25, 0.125, 0.125]).reshape(1, 2, 2).repeat(2, 1, 1)
    fix = torch.tensor([[[2.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]]])
    loss = fixation_nll(p.log(), fix)
    assert loss.item() == pytest.approx(11 / 6 * math.log(2), rel=1e-6)


def test_nll_decreases_when_mass_moves_onto_fixations():
    fix = torch.zeros(1, 2, 2)
    fix[0, 0, 0] = 1
    uniform = uniform_log_density(1, 2, 2)
    peaked = torch.tensor([0.7, 0.1, 0.1, 0.1]).log().reshape(1, 1, 2, 2)
    assert fixation_nll(peaked, fix) < fixation_nll(uniform, fix)
    # -log 0.7 = 0.3567 < log 4 = 1.3863
    assert fixation_nll(peaked, fix).item() == pytest.approx(-math.log(0.7), rel=1e-6)


def test_nll_all_zero_fixation_maps_no_nan():
    logp = log_softmax_2d(torch.randn(2, 1, 3, 3, requires_grad=True))
    fix = torch.zeros(2, 3, 3)
    fix[1, 0, 0] = 1.0
    # image 0 has no fixations: only image 1 counts
    full = fixation_nll(logp, fix)
    assert full.item() == pytest.approx(-logp[1, 0, 0, 0].item(), rel=1e-6)
    # no fixations at all: a zero that still back-propagates, finite gradients
    scores = torch.randn(2, 1, 3, 3, requires_grad=True)
    loss = fixation_nll(log_softmax_2d(scores), torch.zeros(2, 3, 3))
    loss.backward()
    assert loss.item() == 0.0
    assert torch.isfinite(scores.grad).all()
    # one empty image in the batch: gradients finite too
    scores.grad = None
    fixation_nll(log_softmax_2d(scores), fix).backward()
    assert torch.isfinite(scores.grad).all()
    assert scores.grad[0].abs().sum() == 0


def test_nll_ignores_minus_inf_where_no_fixation():
    logp = torch.tensor([[[0.0, -math.inf]]])  # all mass on pixel 0
    fix = torch.tensor([[[1.0, 0.0]]])
    assert fixation_nll(logp, fix).item() == 0.0


def test_density_cross_entropy_scale_invariant_target():
    # q = [1, 3] / 4 ; p = [0.5, 0.5] -> H = log 2
    # p = [0.25, 0.75] -> H = -(0.25 ln .25 + 0.75 ln .75) = 0.5623
    q = torch.tensor([[[1.0, 3.0]]])
    assert density_cross_entropy(torch.full((1, 1, 2), 0.5).log(), q).item() == pytest.approx(
        math.log(2), rel=1e-6
    )
    p = torch.tensor([[[0.25, 0.75]]]).log()
    expected = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    assert density_cross_entropy(p, 10 * q).item() == pytest.approx(expected, rel=1e-6)


def test_theis_weighting():
    logp = log_softmax_2d(torch.randn(2, 1, 4, 4))
    fix = (torch.rand(2, 4, 4) > 0.7).float()
    fix[0, 0, 0] = 1
    teacher = torch.rand(2, 4, 4)
    a = fixation_nll(logp, fix)
    b = density_cross_entropy(logp, teacher)
    got = theis_distillation_loss(logp, fix, teacher)
    assert got.item() == pytest.approx((0.1 * a + 0.9 * b).item(), rel=1e-6)
    got2 = theis_distillation_loss(logp, fix, teacher, real_weight=0.5, teacher_weight=2.0)
    assert got2.item() == pytest.approx((0.5 * a + 2.0 * b).item(), rel=1e-6)
    # no teacher: plain NLL at full weight
    assert theis_distillation_loss(logp, fix, None).item() == pytest.approx(a.item())


def test_log_softmax_2d_normalises():
    logp = log_softmax_2d(torch.randn(3, 1, 5, 6))
    assert torch.allclose(logp.flatten(1).logsumexp(1), torch.zeros(3), atol=1e-6)
    assert torch.allclose(log_softmax_2d(logp), logp, atol=1e-6)  # idempotent


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="must match"):
        fixation_nll(uniform_log_density(1, 4, 4), torch.zeros(1, 4, 5))


# ---------------------------------------------------------------- fastsal.py


def test_minmax_normalise():
    x = torch.tensor([[[2.0, 4.0], [6.0, 10.0]], [[3.0, 3.0], [3.0, 3.0]]])
    out = minmax_normalise(x)
    # (x - 2) / 8 ; constant image -> zeros
    assert torch.allclose(out[0], torch.tensor([[0.0, 0.25], [0.5, 1.0]]))
    assert torch.equal(out[1], torch.zeros(2, 2))


def test_bce_known_numbers():
    # logits 0 -> sigmoid 0.5 -> BCE = ln 2 for any target in [0, 1].
    logits = torch.zeros(1, 1, 1, 2)
    gt = torch.tensor([[[0.0, 5.0]]])  # min-max -> [0, 1]
    teacher = torch.tensor([[[1.0, 3.0]]])  # -> [0, 1]
    assert fastsal_bce_loss(logits, gt, teacher).item() == pytest.approx(2 * math.log(2), rel=1e-6)
    # logits [ln 3, 0] -> s = [0.75, 0.5]; targets [0, 1]:
    #   pixel 0: -ln(1 - 0.75) = ln 4 ; pixel 1: -ln 0.5 = ln 2 ; mean = 1.5 ln 2 = 1.0397
    logits = torch.tensor([math.log(3.0), 0.0]).reshape(1, 1, 1, 2)
    gt_only = fastsal_bce_loss(logits, gt, None)
    assert gt_only.item() == pytest.approx(1.5 * math.log(2), rel=1e-6)
    weighted = fastsal_bce_loss(logits, gt, teacher, gt_weight=2.0, teacher_weight=0.5)
    assert weighted.item() == pytest.approx(2.5 * 1.5 * math.log(2), rel=1e-6)


def test_bce_stable_for_large_logits():
    logits = torch.tensor([200.0, -200.0]).reshape(1, 1, 1, 2).requires_grad_()
    loss = fastsal_bce_loss(logits, torch.tensor([[[1.0, 0.0]]]), None)
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-6)
    assert torch.isfinite(logits.grad).all()


def test_kl_identical_zero_and_two_pixel_case():
    d = torch.rand(2, 1, 4, 4) + 0.1
    assert kl_divergence(d, d).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_divergence(d, 3 * d).item() == pytest.approx(0.0, abs=1e-6)  # scale-free
    # P = [0.25, 0.75], Q = [0.5, 0.5]:
    # KL(Q||P) = 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) = 0.5 ln(4/3) = 0.143841
    p = torch.tensor([[[1.0, 3.0]]])
    q = torch.tensor([[[2.0, 2.0]]])
    assert kl_divergence(p, q).item() == pytest.approx(0.5 * math.log(4 / 3), rel=1e-5)


def test_kl_zero_pred_finite_and_empty_target_skipped():
    p = torch.tensor([[[0.0, 1.0]], [[0.5, 0.5]]])
    q = torch.tensor([[[1.0, 1.0]], [[0.0, 0.0]]])
    v = kl_divergence(p, q)
    assert torch.isfinite(v)
    # image 0: 0.5 ln(eps + 0.5/eps) + 0.5 ln(0.5) ~ 0.5*(35.35) - 0.3466 ; image 1 skipped
    expected = 0.5 * math.log(2.2204e-16 + 0.5 / 2.2204e-16) + 0.5 * math.log(0.5)
    assert v.item() == pytest.approx(expected, rel=1e-4)


def test_cc_identical_and_negated():
    a = torch.randn(3, 1, 5, 5)
    assert correlation_coefficient(a, a).item() == pytest.approx(1.0, abs=1e-5)
    assert correlation_coefficient(a, -a).item() == pytest.approx(-1.0, abs=1e-5)
    assert correlation_coefficient(a, 2 * a + 7).item() == pytest.approx(1.0, abs=1e-5)
    # hand case: [1, 2, 3] vs [1, 3, 2]: centred [-1, 0, 1], [-1, 1, 0] -> 1 / 2
    x = torch.tensor([[[1.0, 2.0, 3.0]]])
    y = torch.tensor([[[1.0, 3.0, 2.0]]])
    assert correlation_coefficient(x, y).item() == pytest.approx(0.5, rel=1e-6)
    # constant map -> 0, not NaN
    assert correlation_coefficient(torch.ones(1, 2, 2), torch.rand(1, 2, 2)).item() == 0.0


def test_kl_cc_bce_parts():
    scores = torch.randn(2, 1, 4, 4, requires_grad=True)
    gt = torch.rand(2, 4, 4)
    teacher = torch.rand(2, 4, 4)
    p = torch.softmax(scores.flatten(1), 1).reshape(2, 4, 4)
    kl = kl_divergence(p, gt)
    cc = correlation_coefficient(p, gt)
    gt_only = fastsal_kl_cc_bce_loss(scores, gt, None)
    assert gt_only.item() == pytest.approx((kl + 1 - cc).item(), rel=1e-5)
    # log-density input gives the same loss as the raw scores (softmax is idempotent)
    same = fastsal_kl_cc_bce_loss(log_softmax_2d(scores), gt, None)
    assert same.item() == pytest.approx(gt_only.item(), rel=1e-5)
    full = fastsal_kl_cc_bce_loss(scores, gt, teacher, kl_weight=0.0, cc_weight=0.0)
    pm = minmax_normalise(p).clamp(1e-6, 1 - 1e-6)
    t = minmax_normalise(teacher)
    bce = -(t * pm.log() + (1 - t) * (1 - pm).log()).mean()
    assert full.item() == pytest.approx(bce.item(), rel=1e-4)
    fastsal_kl_cc_bce_loss(scores, gt, teacher).backward()
    assert torch.isfinite(scores.grad).all()


def test_kl_cc_identical_gt_is_zero():
    gt = torch.rand(1, 3, 3) + 0.1
    loss = fastsal_kl_cc_bce_loss(gt.log().unsqueeze(1), gt, None)
    assert loss.item() == pytest.approx(0.0, abs=1e-5)


# ---------------------------------------------------------------- hint.py


def test_hint_identity_zero_and_gradient_to_adapter():
    feats = [torch.randn(2, 4, 6, 6), torch.randn(2, 8, 3, 3)]
    loss_fn = HintLoss([4, 8], [4, 8], identity_init=True)
    loss = loss_fn(feats, feats)
    assert loss.item() == pytest.approx(0.0, abs=1e-10)
    target = [f + 1.0 for f in feats]  # off by one everywhere -> MSE 1 per pair
    loss = loss_fn(feats, target)
    assert loss.item() == pytest.approx(1.0, rel=1e-5)
    loss.backward()
    for conv in loss_fn.adapters:
        assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
        assert conv.bias.grad is not None and conv.bias.grad.abs().sum() > 0


def test_hint_resizes_and_maps_channels():
    loss_fn = HintLoss([3], [5])
    s = torch.randn(1, 3, 4, 4, requires_grad=True)
    t = torch.randn(1, 5, 8, 8)
    loss = loss_fn(s, t)
    loss.backward()
    assert loss.item() > 0 and s.grad is not None
    with pytest.raises(ValueError, match="expected student 3 and teacher 5"):
        loss_fn(torch.randn(1, 4, 4, 4), t)


# ---------------------------------------------------------------- feature_statistics.py


def test_attention_shapes_and_normalisation():
    f = torch.randn(2, 3, 4, 5)
    sa, ca = spatial_attention(f), channel_attention(f)
    assert sa.shape == (2, 4, 5) and ca.shape == (2, 3)
    assert torch.allclose(sa.flatten(1).norm(dim=1), torch.ones(2), atol=1e-6)
    assert torch.allclose(ca.norm(dim=1), torch.ones(2), atol=1e-6)
    # hand case: one channel, values [3, 4] -> f^2 = [9, 16] -> /sqrt(81+256)
    g = torch.tensor([3.0, 4.0]).reshape(1, 1, 1, 2)
    assert torch.allclose(spatial_attention(g)[0, 0], torch.tensor([9.0, 16.0]) / math.sqrt(337))


def test_first_and_second_order_zero_for_identical_positive_otherwise():
    f = torch.randn(2, 4, 5, 5)
    g = torch.randn(2, 4, 5, 5)
    assert first_order_loss(f, f).item() == pytest.approx(0.0, abs=1e-10)
    assert second_order_loss(f, f).item() == pytest.approx(0.0, abs=1e-10)
    assert second_order_loss(f, f, statistic="covariance").item() == pytest.approx(0.0, abs=1e-10)
    assert first_order_loss(f, g).item() > 0
    assert second_order_loss(f, g).item() > 0
    assert second_order_loss(f, g, statistic="covariance").item() > 0
    # different spatial sizes are fine (maps resized, Gram normalised by H*W)
    assert torch.isfinite(first_order_loss(torch.randn(2, 4, 3, 3), g))
    assert torch.isfinite(second_order_loss(torch.randn(2, 4, 3, 3), g))


def test_gram_and_covariance_hand_computed():
    # channels c0 = [1, 2], c1 = [3, 4], H*W = 2:
    # G = [[(1+4)/2, (3+8)/2], [(3+8)/2, (9+16)/2]] = [[2.5, 5.5], [5.5, 12.5]]
    f = torch.tensor([1.0, 2.0, 3.0, 4.0]).reshape(1, 2, 1, 2)
    assert torch.allclose(gram_matrix(f), torch.tensor([[[2.5, 5.5], [5.5, 12.5]]]))
    # centred: c0 = [-.5, .5], c1 = [-.5, .5] -> all entries (0.25 + 0.25) / 2 = 0.25
    assert torch.allclose(covariance(f), torch.full((1, 2, 2), 0.25))


def test_channel_mismatch_error_and_adapter():
    fs, ft = torch.randn(1, 3, 4, 4), torch.randn(1, 6, 4, 4)
    with pytest.raises(ValueError, match="student has 3 channels but teacher has 6"):
        second_order_loss(fs, ft)
    with pytest.raises(ValueError, match="student has 3 channels but teacher has 6"):
        first_order_loss(fs, ft)
    # spatial-only first-order term works for any channel counts
    assert torch.isfinite(first_order_loss(fs, ft, channel_weight=0.0))
    adapter = nn.Conv2d(3, 6, 1)
    loss = second_order_loss(fs, ft, adapter) + first_order_loss(fs, ft, adapter)
    loss.backward()
    assert adapter.weight.grad is not None


def test_feature_statistics_module():
    fs = [torch.randn(2, 4, 6, 6), torch.randn(2, 8, 3, 3)]
    same = FeatureStatisticsLoss()
    assert same(fs, fs).item() == pytest.approx(0.0, abs=1e-10)
    ft = [torch.randn(2, 4, 6, 6), torch.randn(2, 16, 3, 3)]
    with pytest.raises(ValueError, match="student has 8 channels but teacher has 16"):
        same(fs, ft)
    loss_fn = FeatureStatisticsLoss(
        0.5, 2.0, statistic="covariance", student_channels=[4, 8], teacher_channels=[4, 16]
    )
    assert isinstance(loss_fn.adapters[0], nn.Identity)
    parts = loss_fn.components(fs, ft)
    assert parts["total"].item() == pytest.approx(
        (0.5 * parts["first_order"] + 2.0 * parts["second_order"]).item(), rel=1e-6
    )
    loss_fn(fs, ft).backward()
    assert loss_fn.adapters[1].weight.grad is not None


# ---------------------------------------------------------------- registry


def test_registry_with_and_without_teacher():
    logp = log_softmax_2d(torch.randn(2, 1, 4, 4))
    fix = torch.zeros(2, 4, 4)
    fix[0, 1, 1] = 1
    density = torch.rand(2, 4, 4)
    teacher = torch.rand(2, 4, 4)
    with_t = {"fixation_map": fix, "density": density, "teacher": teacher}
    without_t = {"fixation_map": fix, "density": density, "teacher": None}
    assert set(LOSSES) >= {"fixation_nll", "theis", "fastsal_bce", "fastsal_kl_cc_bce"}
    image_losses = {n: f for n, f in LOSSES.items() if getattr(f, "output_channels", 1) == 1}  # not clip losses
    for name, fn in image_losses.items():
        for batch in (with_t, without_t, {"fixation_map": fix, "density": density}):
            v = fn(logp, batch)
            assert v.dim() == 0 and torch.isfinite(v), name
    assert LOSSES["theis"](logp, without_t).item() == pytest.approx(fixation_nll(logp, fix).item())
    assert LOSSES["theis"](logp, with_t).item() == pytest.approx(
        theis_distillation_loss(logp, fix, teacher).item()
    )
    assert LOSSES["fastsal_bce"](logp, without_t).item() == pytest.approx(
        fastsal_bce_loss(logp, density, None).item()
    )
    assert LOSSES["density_cross_entropy"](logp, without_t).item() == pytest.approx(
        density_cross_entropy(logp, density).item()
    )
    assert get_loss("theis") is LOSSES["theis"]
    with pytest.raises(EdgesalError, match="unknown loss 'nope'"):
        get_loss("nope")
