"""FastSal losses (Hu & McGuinness, "FastSal", 2021) and their building blocks.

Map conventions: predictions and targets are (B, H, W) or (B, 1, H, W); every statistic
is computed per image over its H*W pixels and then averaged over the batch.

* eq. 2 (``fastsal_bce_loss``): the network predicts sigmoid *logits*;
  ``L = w_gt * BCE(sigmoid(z), mm(GT)) + w_t * BCE(sigmoid(z), mm(T))``
  (the paper and the authors' code take SALICON maps / SalGAN outputs in [0, 1] as they are;
  min-max leaves a map spanning [0, 1] as it is and puts densities of any scale into [0, 1]);
* eq. 3 as written (``fastsal_eq3_paper_loss``): every term is against the teacher map ``T``
  (the paper's pseudo-labelled images have no ground truth), on the raw scores ``z``:
  ``L = 0.5 KL(T || softmax(z)) + 0.2 (1 - CC(softmax(z), T)) + 0.3 BCE(sigmoid(z), mm(T))``
  with the paper's CC = ``sum(P T) / sqrt(sum(P^2) sum(T^2))`` (uncentred, ``cc_uncentred``)
  and the weights of the authors' release (``compute_log_prob_3losses`` in
  github.com/feiyanhu/FastSal, ``model/student_teacher.py``);
* edgesal's eq. 3 variant (``fastsal_kl_cc_bce_loss``): KL and CC against the ground truth,
  Pearson CC, BCE of the min-max normalised softmax against the teacher:
  ``L = w_kl * KL(GT || P) + w_cc * (1 - Pearson(P, GT)) + w_bce * BCE(mm(P), mm(T))``

where ``mm`` is per-image min-max normalisation to [0, 1], ``P = softmax(z)`` over pixels and
``T`` the teacher map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ._maps import as_float_like, check_same_size, flatten_maps, masked_mean

MATLAB_EPS = 2.2204e-16
"""``eps`` of the MIT saliency benchmark code (MATLAB double precision epsilon)."""

BCE_PROB_CLAMP = 1e-6
"""Probabilities fed to ``binary_cross_entropy`` are clamped to [c, 1 - c] (eq. 3)."""


def minmax_normalise(x: Tensor, eps: float = 0.0) -> Tensor:
    """Per-image min-max normalisation ``(x - min) / (max - min)`` to [0, 1].

    Works on any (B, ...) tensor, reducing over all non-batch dimensions; the output has
    the input's shape. A constant image (max == min) maps to all zeros, never NaN.
    ``eps`` is added to the denominator when positive.
    """
    flat = x.reshape(x.shape[0], -1)
    lo = flat.min(dim=1, keepdim=True).values
    hi = flat.max(dim=1, keepdim=True).values
    rng = hi - lo
    denom = torch.where(rng > 0, rng + eps, torch.ones_like(rng))
    return ((flat - lo) / denom).reshape(x.shape)


def kl_divergence(
    pred_density: Tensor, target_density: Tensor, eps: float = MATLAB_EPS
) -> Tensor:
    """KL divergence ``KL(Q || P)`` in the MIT-benchmark convention (target is reference).

    ``P = pred / sum(pred)``, ``Q = target / sum(target)`` per image, then
    ``KL = sum_x Q(x) * log(eps + Q(x) / (P(x) + eps))``, averaged over the batch.
    Both inputs are non-negative densities (not log-densities) of any scale. Images whose
    target is all zero are skipped (graph-connected zero if none remain).
    """
    check_same_size(pred_density, target_density, "pred_density", "target_density")
    p = flatten_maps(pred_density, "pred_density")
    q = flatten_maps(as_float_like(target_density, p), "target_density")
    p_sum = p.sum(dim=1, keepdim=True)
    q_sum = q.sum(dim=1, keepdim=True)
    p = p / torch.where(p_sum > 0, p_sum, torch.ones_like(p_sum))
    q = q / torch.where(q_sum > 0, q_sum, torch.ones_like(q_sum))
    per_image = (q * torch.log(eps + q / (p + eps))).sum(dim=1)
    return masked_mean(per_image, q_sum[:, 0] > 0, p)


def correlation_coefficient(a: Tensor, b: Tensor, eps: float = 1e-12) -> Tensor:
    """Per-image Pearson correlation ``cov(a, b) / (std(a) std(b))``, mean over the batch.

    Scale- and shift-invariant, so the inputs may be densities, logits or min-max maps.
    A constant map has correlation 0 with anything (the denominator is clamped at ``eps``).
    """
    check_same_size(a, b, "a", "b")
    x = flatten_maps(a, "a")
    y = flatten_maps(as_float_like(b, x), "b")
    x = x - x.mean(dim=1, keepdim=True)
    y = y - y.mean(dim=1, keepdim=True)
    denom = torch.sqrt((x * x).sum(dim=1) * (y * y).sum(dim=1)).clamp_min(eps)
    return ((x * y).sum(dim=1) / denom).mean()


def fastsal_bce_loss(
    logits: Tensor,
    gt_map: Tensor,
    teacher_map: Tensor | None,
    gt_weight: float = 1.0,
    teacher_weight: float = 1.0,
) -> Tensor:
    """FastSal eq. 2: BCE of ``sigmoid(logits)`` against the GT and the teacher map.

    ``L = gt_weight * BCE(sigmoid(z), mm(gt)) + teacher_weight * BCE(sigmoid(z), mm(t))``,
    ``BCE(s, y) = -mean_x [y log s + (1 - y) log(1 - s)]`` over pixels and batch, computed
    from the logits with ``binary_cross_entropy_with_logits`` for numerical stability.
    Both targets are min-max normalised per image. ``teacher_map=None`` drops the teacher
    term (GT-only loss).
    """
    check_same_size(logits, gt_map, "logits", "gt_map")
    z = flatten_maps(logits, "logits")
    gt = minmax_normalise(flatten_maps(as_float_like(gt_map, z), "gt_map"))
    loss = gt_weight * F.binary_cross_entropy_with_logits(z, gt)
    if teacher_map is not None:
        check_same_size(logits, teacher_map, "logits", "teacher_map")
        t = minmax_normalise(flatten_maps(as_float_like(teacher_map, z), "teacher_map"))
        loss = loss + teacher_weight * F.binary_cross_entropy_with_logits(z, t)
    return loss


def cc_uncentred(a: Tensor, b: Tensor, eps: float = 1e-12) -> Tensor:
    """Per-image ``sum(a b) / sqrt(sum(a^2) sum(b^2))`` (cosine of the flattened maps), batch mean.

    FastSal's CC term: unlike Pearson's coefficient the maps are not centred, so it is
    scale- but not shift-invariant (two non-negative maps give a value in [0, 1]).
    """
    check_same_size(a, b, "a", "b")
    x = flatten_maps(a, "a")
    y = flatten_maps(as_float_like(b, x), "b")
    return F.cosine_similarity(x, y, dim=1, eps=eps).mean()


def fastsal_eq3_paper_loss(
    logits: Tensor,
    teacher_map: Tensor,
    kl_weight: float = 0.5,
    cc_weight: float = 0.2,
    bce_weight: float = 0.3,
) -> Tensor:
    """FastSal eq. 3 as the paper writes it: all three terms against the teacher map ``T``.

    ``T`` is sum-normalised per image into a distribution and ``P = softmax(z)`` over pixels:
    ``kl_weight * KL(T || P) + cc_weight * (1 - cc_uncentred(P, T))
    + bce_weight * BCE(sigmoid(z), mm(T))``. ``KL = sum_x T log(T / P)`` (pixels with
    ``T = 0`` add 0) summed over pixels and averaged over the batch; BCE is the pixel mean,
    computed from the logits. ``logits`` are the raw scores of a sigmoid head.
    """
    check_same_size(logits, teacher_map, "logits", "teacher_map")
    z = flatten_maps(logits, "logits")
    t = flatten_maps(as_float_like(teacher_map, z), "teacher_map").clamp_min(0.0)
    t_sum = t.sum(dim=1, keepdim=True)
    t_dist = t / torch.where(t_sum > 0, t_sum, torch.ones_like(t_sum))
    log_p = torch.log_softmax(z, dim=1)
    kl = F.kl_div(log_p, t_dist, reduction="sum") / z.shape[0]
    cc = cc_uncentred(log_p.exp().unsqueeze(1), t_dist.unsqueeze(1))
    bce = F.binary_cross_entropy_with_logits(z, minmax_normalise(t))
    return kl_weight * kl + cc_weight * (1.0 - cc) + bce_weight * bce


def fastsal_kl_cc_bce_loss(
    output: Tensor,
    gt_density: Tensor,
    teacher_map: Tensor | None,
    kl_weight: float = 1.0,
    cc_weight: float = 1.0,
    bce_weight: float = 1.0,
) -> Tensor:
    """edgesal's variant of FastSal eq. 3: ``kl_weight * KL(GT || P) + cc_weight * (1 - CC(P, GT))
    + bce_weight * BCE(mm(P), mm(teacher))``.

    It differs from the paper (``fastsal_eq3_paper_loss``) in four ways: KL and CC are taken
    against the ground truth, not the teacher; CC is Pearson's (centred); BCE compares the
    min-max normalised softmax (not ``sigmoid(z)``) with the teacher; the weights are 1/1/1
    (not 0.5/0.2/0.3). The MIT-benchmark KL with ``eps`` is used.

    ``output`` is either a log-density or raw per-pixel scores/logits: ``P`` is always
    ``softmax`` over the H*W pixels (softmax of a normalised log-density is its density,
    so both work). ``gt_density`` is any non-negative GT map (sum-normalised inside KL).
    For the BCE term ``mm(P)`` is clamped to ``[BCE_PROB_CLAMP, 1 - BCE_PROB_CLAMP]``
    (min-max puts exact 0 and 1 in every map, where the BCE gradient explodes).
    ``teacher_map=None`` drops the BCE term (GT-only: KL + (1 - CC)).
    """
    check_same_size(output, gt_density, "output", "gt_density")
    flat = flatten_maps(output, "output")
    p = torch.softmax(flat, dim=1)
    gt = flatten_maps(as_float_like(gt_density, p), "gt_density")
    p_map = p.reshape(p.shape[0], 1, -1)  # (B, 1, N): 3-d maps for the helpers
    gt_map = gt.reshape(gt.shape[0], 1, -1)
    loss = kl_weight * kl_divergence(p_map, gt_map) + cc_weight * (
        1.0 - correlation_coefficient(p_map, gt_map)
    )
    if teacher_map is not None:
        check_same_size(output, teacher_map, "output", "teacher_map")
        t = minmax_normalise(flatten_maps(as_float_like(teacher_map, p), "teacher_map"))
        pm = minmax_normalise(p).clamp(BCE_PROB_CLAMP, 1.0 - BCE_PROB_CLAMP)
        loss = loss + bce_weight * F.binary_cross_entropy(pm, t)
    return loss
