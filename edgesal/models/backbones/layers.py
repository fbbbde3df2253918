"""Building blocks shared by the hand-written backbones.

Every convolution is a :class:`ConvBNAct` (``pad`` → ``conv`` → ``bn`` → ``act``) so that
weight loaders, pruning and export all see the same structure. TensorFlow "SAME" padding is
an explicit, static :class:`torch.nn.ZeroPad2d` in front of a ``padding=0`` convolution:
it exports to ONNX/TFLite as a plain ``Pad`` op and needs no shape-dependent Python.
"""

from __future__ import annotations

import torch
from torch import nn

# TensorFlow's BatchNorm defaults (PyTorch momentum = 1 - TF decay); both weight sources
# were trained with eps=1e-3.
BN_EPS = 1e-3
BN_MOMENTUM = 0.01


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a channel count to a multiple of ``divisor`` (never below 90 % of ``value``)."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def tf_same_pads(kernel_size: int, stride: int) -> tuple[int, int]:
    """(before, after) zero padding TensorFlow's "SAME" uses for one spatial axis.

    The pads are static, which is exact when the input size is a multiple of ``stride``:
    total = k - s, the odd pixel after (bottom/right); output n / s. Networks fed sizes
    divisible by 32 (e.g. 192×256, 224×224, 480×640) meet this at every stride-2 layer.
    For an odd size TensorFlow would pad one pixel more (output ceil(n / s)); these pads
    then give (n - 1) / s, one row/column fewer.
    """
    total = max(kernel_size - stride, 0)
    return total // 2, total - total // 2


class ConvBNAct(nn.Module):
    """Conv2d (no bias) + BatchNorm2d + optional ReLU6, with TF-SAME or symmetric padding."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        groups: int = 1,
        act: bool = True,
        tf_same_padding: bool = False,
    ) -> None:
        super().__init__()
        before, after = tf_same_pads(kernel_size, stride) if tf_same_padding else (0, 0)
        if tf_same_padding and before != after:
            self.pad: nn.Module = nn.ZeroPad2d((before, after, before, after))
            conv_padding = 0
        else:
            self.pad = nn.Identity()
            conv_padding = kernel_size // 2
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, conv_padding, groups=groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act: nn.Module = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(self.pad(x))))


class InvertedResidual(nn.Module):
    """MobileNetV2 / EfficientNet-Lite (MBConv without SE) block.

    ``expand`` (1×1, omitted when ``expand_ratio == 1``) → ``dw`` (k×k depthwise, stride) →
    ``project`` (1×1 linear); identity shortcut when stride is 1 and channels match.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        expand_ratio: float,
        kernel_size: int = 3,
        tf_same_padding: bool = False,
        drop_path: float = 0.0,
    ) -> None:
        super().__init__()
        hidden = round(in_channels * expand_ratio)
        self.expand = (
            ConvBNAct(in_channels, hidden, 1) if expand_ratio != 1 else None
        )
        self.dw = ConvBNAct(
            hidden, hidden, kernel_size, stride, groups=hidden, tf_same_padding=tf_same_padding
        )
        self.project = ConvBNAct(hidden, out_channels, 1, act=False)
        self.use_residual = stride == 1 and in_channels == out_channels
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.dw(y))
        if not self.use_residual:
            return y
        if self.training and self.drop_path > 0.0:
            keep = 1.0 - self.drop_path
            mask = torch.rand((y.shape[0], 1, 1, 1), dtype=y.dtype, device=y.device) < keep
            y = y * mask.to(y.dtype) / keep
        return x + y


class ClassifierHead(nn.Module):
    """1×1 conv to ``hidden`` channels + ReLU6, global average pool, dropout, linear."""

    def __init__(self, in_channels: int, hidden: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.conv = ConvBNAct(in_channels, hidden, 1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x).mean(dim=(2, 3))
        return self.fc(self.dropout(x))


class FeatureBackbone(nn.Module):
    """A stem, a sequence of blocks tapped at several strides, and an optional head.

    ``forward(x)`` returns the list of tapped feature maps (strides ``feature_strides``,
    channels ``feature_channels``); ``classify(x)`` returns ImageNet logits and needs
    ``with_head=True`` (used to verify pretrained weights).
    """

    feature_channels: tuple[int, ...]
    feature_strides: tuple[int, ...]

    def __init__(
        self,
        stem: nn.Module,
        blocks: list[nn.Module],
        tap_indices: tuple[int, ...],
        feature_channels: tuple[int, ...],
        feature_strides: tuple[int, ...],
        head: nn.Module | None,
    ) -> None:
        super().__init__()
        self.stem = stem
        self.blocks = nn.ModuleList(blocks)
        self.tap_indices = tuple(tap_indices)
        self.feature_channels = tuple(feature_channels)
        self.feature_strides = tuple(feature_strides)
        self.head = head

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        x = self.stem(x)
        last = self.tap_indices[-1]
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.tap_indices:
                features.append(x)
            if i == last:
                break
        return features

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        if self.head is None:
            raise RuntimeError("this backbone was built without a classification head (with_head=True)")
        return self.head(self.forward(x)[-1])


def unfold_batchnorm(bn: nn.BatchNorm2d, bias: torch.Tensor) -> None:
    """Make ``bn`` the identity plus ``bias`` in eval mode (BN "un-folding").

    weight=1, bias=folded bias, running_mean=0, running_var=1-eps, so
    (z - 0) / sqrt(1 - eps + eps) * 1 + bias == z + bias: conv+BN reproduces the folded
    convolution exactly while the structure stays an ordinary, trainable Conv+BN pair.
    """
    with torch.no_grad():
        bn.weight.fill_(1.0)
        bn.bias.copy_(bias)
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
        bn.num_batches_tracked.zero_()


def build_stages(
    in_channels: int,
    settings: tuple[tuple[float, int, int, int, int], ...],
    stem_stride: int = 2,
    tf_same_padding: bool = False,
    drop_path_rate: float = 0.0,
) -> tuple[list[InvertedResidual], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Inverted-residual stages from (t, c, n, s, k) rows with ready-scaled channels ``c``.

    Returns ``(blocks, tap_indices, channels, strides)`` where a tap is the last block
    before the next stride-2 stage (or the end), from stride 4 on. Block ``i`` of ``N``
    gets drop-path rate ``drop_path_rate * i / N`` (EfficientNet's drop-connect schedule).
    """
    total = sum(row[2] for row in settings)
    blocks: list[InvertedResidual] = []
    taps, channels, strides = [], [], []
    stride_now = stem_stride
    for row, (t, c, n, s, k) in enumerate(settings):
        for j in range(n):
            blocks.append(
                InvertedResidual(
                    in_channels, c, s if j == 0 else 1, t, k,
                    tf_same_padding=tf_same_padding,
                    drop_path=drop_path_rate * len(blocks) / total,
                )
            )
            in_channels = c
        stride_now *= s
        next_stride = settings[row + 1][3] if row + 1 < len(settings) else 2
        if stride_now >= 4 and next_stride == 2:
            taps.append(len(blocks) - 1)
            channels.append(c)
            strides.append(stride_now)
    return blocks, tuple(taps), tuple(channels), tuple(strides)
