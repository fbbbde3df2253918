"""Small building blocks shared by decoders and heads."""

from __future__ import annotations

import torch
from torch import nn


def conv_bn_act(c_in: int, c_out: int, kernel: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    """Conv (no bias) + BatchNorm + optional ReLU6, 'same' padding for odd kernels."""
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """FastSal's modified inverted residual: 1×1 expand (×``expansion``), 3×3 depthwise, 1×1 project."""

    def __init__(self, channels: int, expansion: int = 2):
        super().__init__()
        hidden = channels * expansion
        self.block = nn.Sequential(
            conv_bn_act(channels, hidden, 1),
            conv_bn_act(hidden, hidden, 3, groups=hidden),
            conv_bn_act(hidden, channels, 1, act=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)
