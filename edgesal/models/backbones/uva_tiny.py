"""UVA-Net-style tiny depthwise backbone for low-resolution input (e.g. 64×64).

Only depthwise-separable convolutions (3×3 depthwise + 1×1 pointwise, BN, ReLU6); outputs
features at strides 4, 8, 16, 32 like the other backbones, so any decoder/head fits. The
predicted map is upsampled to the full image size by the predictor.
"""

from __future__ import annotations

import torch
from torch import nn

from edgesal.models.layers import conv_bn_act

from .registry import register_backbone


def separable(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    """Depthwise 3×3 (stride) + pointwise 1×1."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_in, 3, stride=stride, padding=1, groups=c_in, bias=False),
        nn.BatchNorm2d(c_in),
        nn.ReLU6(inplace=True),
        conv_bn_act(c_in, c_out, 1),
    )


@register_backbone("uva_tiny", from_scratch=True, input_size=(64, 64))
class UVABackbone(nn.Module):
    """Random initialisation by design (UVA-Net trains from scratch at low resolution)."""

    feature_strides = (4, 8, 16, 32)

    def __init__(self, channels: tuple[int, int, int, int, int] = (8, 16, 24, 48, 64)):
        super().__init__()
        c0, c1, c2, c3, c4 = channels
        self.stem = nn.Sequential(nn.Conv2d(3, c0, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c0),
                                  nn.ReLU6(inplace=True))
        self.stages = nn.ModuleList([
            separable(c0, c1, 2),
            nn.Sequential(separable(c1, c2, 2), separable(c2, c2, 1)),
            nn.Sequential(separable(c2, c3, 2), separable(c3, c3, 1)),
            nn.Sequential(separable(c3, c4, 2), separable(c4, c4, 1)),
        ])
        self.feature_channels = (c1, c2, c3, c4)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return feats
