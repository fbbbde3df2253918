"""DenseNet-121 (Huang et al., 2017) feature extractor, no weights.

The backbone of DenseGaze (Theis et al., 2018, "Faster gaze prediction with dense
networks and Fisher pruning"). Growth rate 32, blocks (6, 12, 24, 16), bottleneck 4×,
compression 0.5; module names follow torchvision (``denselayerN.norm1/conv1/norm2/conv2``,
``transition.norm/conv``) so torchvision-layout weights can be mapped onto it later.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import FeatureBackbone
from .registry import register_backbone
from .vgg import TORCHVISION_MEAN, TORCHVISION_STD


class DenseLayer(nn.Module):
    """BN-ReLU-1×1 conv (bn_size·growth) - BN-ReLU-3×3 conv (growth); output concatenated."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(self.relu(self.norm1(x)))
        y = self.conv2(self.relu(self.norm2(y)))
        return torch.cat([x, y], dim=1)


class DenseBlock(nn.Sequential):
    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int) -> None:
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size))


class Transition(nn.Sequential):
    """BN-ReLU-1×1 conv (compression) - 2×2 average pool."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.pool = nn.AvgPool2d(2, 2)


@register_backbone("densenet121", mean=TORCHVISION_MEAN, std=TORCHVISION_STD)
class DenseNet121(FeatureBackbone):
    """DenseNet-121 features: (256, 512, 1024, 1024) channels at strides (4, 8, 16, 32).

    Taps: dense blocks 1–3 and block 4 after the final BN+ReLU (``norm5``).
    """

    def __init__(self, growth_rate: int = 32, block_config=(6, 12, 24, 16), init_features: int = 64,
                 bn_size: int = 4) -> None:
        stem = nn.Sequential(
            nn.Conv2d(3, init_features, 7, 2, 3, bias=False),
            nn.BatchNorm2d(init_features),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        blocks: list[nn.Module] = []
        channels: list[int] = []
        in_ch = init_features
        for i, num_layers in enumerate(block_config):
            stage = nn.Sequential()
            if i > 0:
                stage.add_module("transition", Transition(in_ch, in_ch // 2))
                in_ch //= 2
            stage.add_module("denseblock", DenseBlock(num_layers, in_ch, growth_rate, bn_size))
            in_ch += num_layers * growth_rate
            if i == len(block_config) - 1:
                stage.add_module("norm5", nn.BatchNorm2d(in_ch))
                stage.add_module("relu5", nn.ReLU(inplace=True))
            blocks.append(stage)
            channels.append(in_ch)
        super().__init__(stem, blocks, (0, 1, 2, 3), tuple(channels), (4, 8, 16, 32), None)
