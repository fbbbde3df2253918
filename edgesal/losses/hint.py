"""FitNets-style hint loss for pretraining a student on a teacher's intermediate features."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _as_list(x: Tensor | Sequence[Tensor]) -> list[Tensor]:
    return [x] if isinstance(x, Tensor) else list(x)


class HintLoss(nn.Module):
    """Regress teacher features from student features through 1x1 conv adapters.

    For each feature pair ``k``: ``L_k = mean((resize(A_k(s_k)) - t_k)^2)`` where ``A_k`` is
    a learnable ``Conv2d(student_channels[k], teacher_channels[k], 1)`` (with bias) and
    ``resize`` is bilinear interpolation (``align_corners=False``) to the teacher's
    (H, W), applied only when the sizes differ. The loss is the mean of ``L_k`` over pairs.
    Teacher features are detached (the teacher is frozen).

    ``identity_init=True`` initialises each adapter to the identity on the first
    ``min(C_s, C_t)`` channels (zero elsewhere, zero bias), so identical features start
    with zero loss; the default is PyTorch's standard conv initialisation.
    """

    def __init__(
        self,
        student_channels: Sequence[int],
        teacher_channels: Sequence[int],
        *,
        identity_init: bool = False,
    ) -> None:
        super().__init__()
        if len(student_channels) != len(teacher_channels):
            raise ValueError(
                f"got {len(student_channels)} student and {len(teacher_channels)} teacher "
                "channel counts; need one per feature pair"
            )
        self.student_channels = [int(c) for c in student_channels]
        self.teacher_channels = [int(c) for c in teacher_channels]
        self.adapters = nn.ModuleList(
            nn.Conv2d(cs, ct, kernel_size=1, bias=True)
            for cs, ct in zip(self.student_channels, self.teacher_channels)
        )
        if identity_init:
            self.reset_to_identity()

    @torch.no_grad()
    def reset_to_identity(self) -> None:
        """Set every adapter to the (truncated / zero-padded) identity map with zero bias."""
        for conv in self.adapters:
            conv.weight.zero_()
            n = min(conv.in_channels, conv.out_channels)
            idx = torch.arange(n)
            conv.weight[idx, idx, 0, 0] = 1.0
            conv.bias.zero_()

    def forward(
        self,
        student_features: Tensor | Sequence[Tensor],
        teacher_features: Tensor | Sequence[Tensor],
    ) -> Tensor:
        """Mean over feature pairs of the MSE between adapted student and teacher maps."""
        fs, ft = _as_list(student_features), _as_list(teacher_features)
        if len(fs) != len(self.adapters) or len(ft) != len(self.adapters):
            raise ValueError(
                f"HintLoss has {len(self.adapters)} adapters but got {len(fs)} student and "
                f"{len(ft)} teacher feature maps"
            )
        losses = []
        for k, (adapter, s, t) in enumerate(zip(self.adapters, fs, ft)):
            if s.shape[1] != adapter.in_channels or t.shape[1] != adapter.out_channels:
                raise ValueError(
                    f"feature pair {k}: expected student {adapter.in_channels} and teacher "
                    f"{adapter.out_channels} channels, got {s.shape[1]} and {t.shape[1]}"
                )
            t = t.detach()
            a = adapter(s)
            if a.shape[-2:] != t.shape[-2:]:
                a = F.interpolate(a, size=t.shape[-2:], mode="bilinear", align_corners=False)
            losses.append(F.mse_loss(a, t))
        return torch.stack(losses).mean()
