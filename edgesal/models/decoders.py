"""Decoders turning multi-level backbone features into one feature map at stride 8.

- ``FastSalC`` (Hu & McGuinness, decoder C): 1×1 adaptation layers on each level,
  pixel-shuffle upsampling of the coarse levels to stride 8, concatenation, 3×3 fusion conv.
- ``FastSalA`` (decoder A): FPN-like top-down path that *adds* upsampled coarse features to
  adapted finer ones, each sum refined by a modified inverted residual (expansion 2).
- ``ConcatDecoder`` (DeepGaze II style): bilinear resize of every level to stride 8 and
  concatenation, for the readout head.
All take ``feature_channels``/``feature_strides`` lists (strides 8, 16, 32 are used).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from edgesal.models.layers import InvertedResidual, conv_bn_act
from edgesal.models.parts import register_decoder

TARGET_STRIDE = 8


def _levels(strides: list[int]) -> list[int]:
    """Indices of the features at stride ≥ 8."""
    idx = [i for i, s in enumerate(strides) if s >= TARGET_STRIDE]
    if not idx or strides[idx[0]] != TARGET_STRIDE:
        raise ValueError(f"backbone must provide a stride-8 feature, got strides {strides}")
    return idx


@register_decoder("fastsal_c")
class FastSalC(nn.Module):
    """Adaptation + pixel shuffle + concatenation."""

    def __init__(self, feature_channels: list[int], feature_strides: list[int], width: int = 32):
        super().__init__()
        self.levels = _levels(feature_strides)
        adapters = []
        for i in self.levels:
            r = feature_strides[i] // TARGET_STRIDE
            adapters.append(nn.Sequential(
                conv_bn_act(feature_channels[i], width * r * r, 1),
                nn.PixelShuffle(r) if r > 1 else nn.Identity(),
            ))
        self.adapters = nn.ModuleList(adapters)
        self.fuse = conv_bn_act(width * len(self.levels), 2 * width, 3)
        self.out_channels = 2 * width

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        parts = [adapt(feats[i]) for adapt, i in zip(self.adapters, self.levels)]
        return self.fuse(torch.cat(parts, dim=1))


@register_decoder("fastsal_a")
class FastSalA(nn.Module):
    """FPN-like additive top-down path with inverted-residual refinement."""

    def __init__(self, feature_channels: list[int], feature_strides: list[int], width: int = 48):
        super().__init__()
        self.levels = _levels(feature_strides)
        self.lateral = nn.ModuleList(conv_bn_act(feature_channels[i], width, 1, act=False) for i in self.levels)
        self.refine = nn.ModuleList(InvertedResidual(width, expansion=2) for _ in self.levels)
        self.out_channels = width

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        top = None
        for k in reversed(range(len(self.levels))):
            x = self.lateral[k](feats[self.levels[k]])
            if top is not None:
                x = x + F.interpolate(top, size=x.shape[-2:], mode="bilinear", align_corners=False)
            top = self.refine[k](x)
        return top


@register_decoder("concat")
class ConcatDecoder(nn.Module):
    """Resize all levels to stride 8 and concatenate (DeepGaze II-style readout input)."""

    def __init__(self, feature_channels: list[int], feature_strides: list[int]):
        super().__init__()
        self.levels = _levels(feature_strides)
        self.out_channels = sum(feature_channels[i] for i in self.levels)

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        size = feats[self.levels[0]].shape[-2:]
        return torch.cat([
            F.interpolate(feats[i], size=size, mode="bilinear", align_corners=False) if j else feats[i]
            for j, i in enumerate(self.levels)
        ], dim=1)

