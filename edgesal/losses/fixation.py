"""Likelihood losses for probabilistic saliency models (DeepGaze / Fisher-pruning readout).

The model output is a *log-density* over pixels: ``log_density`` of shape (B, H, W) or
(B, 1, H, W) with ``logsumexp`` over the H*W pixels equal to 0 (a spatial log-softmax).
All values are in nats unless ``bits=True`` (nats / ln 2).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ._maps import as_float_like, check_same_size, flatten_maps, masked_mean

LN2 = math.log(2.0)


def log_softmax_2d(scores: Tensor) -> Tensor:
    """Spatial log-softmax: turn per-pixel scores into a log-density (same shape).

    ``log p(x) = s(x) - logsumexp_y s(y)`` over the H*W pixels of each image.
    Idempotent on an already-normalised log-density.
    """
    flat = flatten_maps(scores, "scores")
    return torch.log_softmax(flat, dim=1).reshape(scores.shape)


def _weighted_cross_entropy(log_density: Tensor, weights: Tensor, bits: bool) -> Tensor:
    """Mean over images with positive weight of ``-sum w log p / sum w``."""
    check_same_size(log_density, weights, "log_density", "target")
    logp = flatten_maps(log_density, "log_density")
    w = flatten_maps(as_float_like(weights, logp), "target")
    if bool((w < 0).any()):
        raise ValueError("target weights / densities must be non-negative")
    total = w.sum(dim=1)
    valid = total > 0
    # Safe denominator: a 0/0 row would give NaN gradients even when masked out afterwards.
    # where(): pixels with zero weight contribute 0 even if log p = -inf there (0 * -inf = NaN).
    terms = torch.where(w > 0, w * logp, torch.zeros_like(logp))
    per_image = -terms.sum(dim=1) / torch.where(valid, total, torch.ones_like(total))
    loss = masked_mean(per_image, valid, logp)
    return loss / LN2 if bits else loss


def fixation_nll(log_density: Tensor, fixation_map: Tensor, *, bits: bool = False) -> Tensor:
    """Negative log-likelihood per fixation.

    For each image ``NLL_i = -sum_x f(x) log p(x) / sum_x f(x)`` where ``f`` is the
    fixation map (binary or counts; a pixel fixated ``k`` times counts ``k`` times).
    The result is the mean of ``NLL_i`` over the images that have at least one fixation
    (each image weighs the same). If no image in the batch has a fixation the loss is a
    zero that still back-propagates (zero gradients), never NaN.

    A uniform model gives ``log(H*W)`` nats. ``bits=True`` divides by ``ln 2``.
    """
    return _weighted_cross_entropy(log_density, fixation_map, bits)


def density_cross_entropy(
    log_density: Tensor, target_density: Tensor, *, bits: bool = False
) -> Tensor:
    """Cross-entropy ``H(q, p) = -sum_x q(x) log p(x)`` with ``q`` = target / sum(target).

    ``target_density`` is any non-negative map (GT or teacher density, any scale); it is
    normalised to sum to 1 per image. Images whose target is all zero are skipped (mean
    over the others; a graph-connected zero if none remain).
    """
    return _weighted_cross_entropy(log_density, target_density, bits)


def theis_distillation_loss(
    log_density: Tensor,
    fixation_map: Tensor,
    teacher_density: Tensor | None,
    real_weight: float = 0.1,
    teacher_weight: float = 0.9,
    *,
    bits: bool = False,
) -> Tensor:
    """Theis et al. (2018) distillation objective.

    ``L = real_weight * fixation_nll(p, fixations) + teacher_weight * H(q_teacher, p)``
    with the default weights 0.1 / 0.9. If ``teacher_density`` is None the loss falls back
    to the real-fixation term alone at full weight, i.e. ``fixation_nll`` (not 0.1 of it).
    """
    real = fixation_nll(log_density, fixation_map, bits=bits)
    if teacher_density is None:
        return real
    teacher = density_cross_entropy(log_density, teacher_density, bits=bits)
    return real_weight * real + teacher_weight * teacher
