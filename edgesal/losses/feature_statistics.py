"""Feature-statistics distillation: match first- and second-order statistics of features.

Following the idea of distilling saliency models through feature statistics (Zhang et
al.): the student is trained so that, at chosen layers, its features have the teacher's

* first-order statistics: attention maps (where the energy is, ``spatial_attention``) and
  channel descriptors (which channels respond, ``channel_attention``), each L2-normalised
  per sample so that only the *pattern* is matched, not the scale;
* second-order statistics: channel Gram matrices ``F F^T / (H W)`` or covariances.

Features are (B, C, H, W). Spatial sizes may differ between student and teacher (maps are
resized; Gram/covariance are size-independent); channel counts must match for the channel
and second-order terms unless a 1x1 ``adapter`` maps student channels to teacher channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Statistic = Literal["gram", "covariance"]


def _check_features(f: Tensor, name: str) -> None:
    if f.dim() != 4:
        raise ValueError(f"{name} must be (B, C, H, W), got shape {tuple(f.shape)}")


def _check_channels(cs: int, ct: int, what: str) -> None:
    if cs != ct:
        raise ValueError(
            f"{what}: student has {cs} channels but teacher has {ct}; pass a 1x1 adapter "
            f"(e.g. nn.Conv2d({cs}, {ct}, 1)) to map student channels to teacher channels"
        )


def _spatial_energy(f: Tensor) -> Tensor:
    """``mean_c f^2``: (B, 1, H, W), not normalised."""
    return f.pow(2).mean(dim=1, keepdim=True)


def spatial_attention(f: Tensor) -> Tensor:
    """Spatial attention ``a(x) = mean_c f_c(x)^2``, L2-normalised per sample: (B, H, W)."""
    _check_features(f, "features")
    a = _spatial_energy(f)[:, 0]
    return F.normalize(a.flatten(1), dim=1).reshape(a.shape)


def channel_attention(f: Tensor) -> Tensor:
    """Channel descriptor ``v_c = mean_x f_c(x)``, L2-normalised per sample: (B, C)."""
    _check_features(f, "features")
    return F.normalize(f.mean(dim=(2, 3)), dim=1)


def first_order_loss(
    fs: Tensor,
    ft: Tensor,
    adapter: nn.Module | None = None,
    *,
    spatial_weight: float = 1.0,
    channel_weight: float = 1.0,
) -> Tensor:
    """``spatial_weight * MSE(sa(s), sa(t)) + channel_weight * MSE(ca(s), ca(t))``.

    ``s = adapter(fs)`` if an adapter is given, else ``fs``. If the spatial sizes differ the
    student's (unnormalised) energy map is resized bilinearly to the teacher's size before
    L2 normalisation. The channel term needs equal channel counts (ValueError naming both
    otherwise); with ``channel_weight=0`` it is skipped and any channel counts are allowed.
    """
    _check_features(fs, "student features")
    _check_features(ft, "teacher features")
    s = adapter(fs) if adapter is not None else fs
    es, et = _spatial_energy(s), _spatial_energy(ft)
    if es.shape[-2:] != et.shape[-2:]:
        es = F.interpolate(es, size=et.shape[-2:], mode="bilinear", align_corners=False)
    sa_s = F.normalize(es.flatten(1), dim=1)
    sa_t = F.normalize(et.flatten(1), dim=1)
    loss = spatial_weight * F.mse_loss(sa_s, sa_t)
    if channel_weight != 0:
        _check_channels(s.shape[1], ft.shape[1], "first_order_loss (channel term)")
        loss = loss + channel_weight * F.mse_loss(channel_attention(s), channel_attention(ft))
    return loss


def gram_matrix(f: Tensor) -> Tensor:
    """Channel Gram matrix ``G = F F^T / (H W)`` with ``F`` the (B, C, H*W) features: (B, C, C)."""
    _check_features(f, "features")
    flat = f.flatten(2)
    return flat @ flat.transpose(1, 2) / flat.shape[2]


def covariance(f: Tensor) -> Tensor:
    """Channel covariance ``(F - mean) (F - mean)^T / (H W)`` (population, centred per channel)."""
    _check_features(f, "features")
    flat = f.flatten(2)
    flat = flat - flat.mean(dim=2, keepdim=True)
    return flat @ flat.transpose(1, 2) / flat.shape[2]


def second_order_loss(
    fs: Tensor,
    ft: Tensor,
    adapter: nn.Module | None = None,
    *,
    statistic: Statistic = "gram",
) -> Tensor:
    """``MSE(S(s), S(t))`` with ``S`` = ``gram_matrix`` or ``covariance``.

    ``s = adapter(fs)`` if given. Spatial sizes may differ (both are normalised by H*W);
    channel counts must be equal after the adapter, else ValueError naming both counts.
    """
    _check_features(fs, "student features")
    _check_features(ft, "teacher features")
    s = adapter(fs) if adapter is not None else fs
    _check_channels(s.shape[1], ft.shape[1], "second_order_loss")
    if statistic == "gram":
        stat = gram_matrix
    elif statistic == "covariance":
        stat = covariance
    else:
        raise ValueError(f"statistic must be 'gram' or 'covariance', got {statistic!r}")
    return F.mse_loss(stat(s), stat(ft))


class FeatureStatisticsLoss(nn.Module):
    """Sum of first- and second-order statistic losses, averaged over feature pairs.

    ``L = mean_k [ first_order_weight * first_order_loss(s_k, t_k)
                  + second_order_weight * second_order_loss(s_k, t_k) ]``

    Pass ``student_channels`` / ``teacher_channels`` to create a learnable bias-free
    ``Conv2d(C_s, C_t, 1)`` adapter for every pair whose counts differ (``nn.Identity``
    where they are equal); without them every pair must have equal channel counts.
    Teacher features are detached. ``components()`` returns the parts for logging.
    """

    def __init__(
        self,
        first_order_weight: float = 1.0,
        second_order_weight: float = 1.0,
        *,
        statistic: Statistic = "gram",
        spatial_weight: float = 1.0,
        channel_weight: float = 1.0,
        student_channels: Sequence[int] | None = None,
        teacher_channels: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if statistic not in ("gram", "covariance"):
            raise ValueError(f"statistic must be 'gram' or 'covariance', got {statistic!r}")
        self.first_order_weight = float(first_order_weight)
        self.second_order_weight = float(second_order_weight)
        self.statistic: Statistic = statistic
        self.spatial_weight = float(spatial_weight)
        self.channel_weight = float(channel_weight)
        self.adapters: nn.ModuleList | None = None
        if (student_channels is None) != (teacher_channels is None):
            raise ValueError("give both student_channels and teacher_channels, or neither")
        if student_channels is not None and teacher_channels is not None:
            if len(student_channels) != len(teacher_channels):
                raise ValueError(
                    f"got {len(student_channels)} student and {len(teacher_channels)} "
                    "teacher channel counts; need one per feature pair"
                )
            self.adapters = nn.ModuleList(
                nn.Identity() if cs == ct else nn.Conv2d(cs, ct, kernel_size=1, bias=False)
                for cs, ct in zip(student_channels, teacher_channels)
            )

    def components(
        self,
        student_features: Tensor | Sequence[Tensor],
        teacher_features: Tensor | Sequence[Tensor],
    ) -> dict[str, Tensor]:
        """``{"first_order", "second_order", "total"}``, each averaged over pairs (unweighted
        parts; ``total`` is weighted)."""
        fs = [student_features] if isinstance(student_features, Tensor) else list(student_features)
        ft = [teacher_features] if isinstance(teacher_features, Tensor) else list(teacher_features)
        if len(fs) != len(ft) or not fs:
            raise ValueError(f"got {len(fs)} student and {len(ft)} teacher feature maps")
        if self.adapters is not None and len(self.adapters) != len(fs):
            raise ValueError(f"loss has {len(self.adapters)} adapters but got {len(fs)} pairs")
        first, second = [], []
        for k, (s, t) in enumerate(zip(fs, ft)):
            adapter = self.adapters[k] if self.adapters is not None else None
            t = t.detach()
            if adapter is not None:
                _check_features(s, "student features")
                s = adapter(s)  # once, shared by both terms
            first.append(
                first_order_loss(
                    s, t, spatial_weight=self.spatial_weight, channel_weight=self.channel_weight
                )
            )
            second.append(second_order_loss(s, t, statistic=self.statistic))
        f1 = torch.stack(first).mean()
        f2 = torch.stack(second).mean()
        total = self.first_order_weight * f1 + self.second_order_weight * f2
        return {"first_order": f1, "second_order": f2, "total": total}

    def forward(
        self,
        student_features: Tensor | Sequence[Tensor],
        teacher_features: Tensor | Sequence[Tensor],
    ) -> Tensor:
        """Weighted total loss (see class docstring)."""
        return self.components(student_features, teacher_features)["total"]
