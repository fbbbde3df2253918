"""Hand counts for edgesal.models.flops (Fisher-pruning paper's formula)."""

from __future__ import annotations

import torch
from torch import nn

from edgesal.models.flops import FlopReport, count_flops, count_params


def test_conv_paper_formula():
    # H_out * W_out * C_out * (2 * C_in * K^2 + 1) = 4*4*8*(2*3*9 + 1) = 128 * 55 = 7040
    r = count_flops(nn.Conv2d(3, 8, 3, padding=1), (1, 3, 4, 4))
    assert r.total_flops == 7040
    # the +1 is counted without a bias too
    assert count_flops(nn.Conv2d(3, 8, 3, padding=1, bias=False), (1, 3, 4, 4)).total_flops == 7040
    # stride 2: output 2x2 -> 2*2*8*55 = 1760 ; batch 2 doubles it
    assert count_flops(nn.Conv2d(3, 8, 3, stride=2, padding=1), (1, 3, 4, 4)).total_flops == 1760
    assert count_flops(nn.Conv2d(3, 8, 3, stride=2, padding=1), (2, 3, 4, 4)).total_flops == 3520


def test_depthwise_and_grouped_conv():
    # 4*4*8*(2*(8/8)*9 + 1) = 128 * 19 = 2432
    dw = nn.Conv2d(8, 8, 3, groups=8, padding=1)
    assert count_flops(dw, (1, 8, 4, 4)).total_flops == 2432
    # groups=2: C_in/groups = 4 -> 4*4*8*(2*4*9 + 1) = 128 * 73 = 9344
    g2 = nn.Conv2d(8, 8, 3, groups=2, padding=1)
    assert count_flops(g2, (1, 8, 4, 4)).total_flops == 9344
    # pointwise 1x1: 4*4*16*(2*8 + 1) = 256 * 17 = 4352
    assert count_flops(nn.Conv2d(8, 16, 1), (1, 8, 4, 4)).total_flops == 4352


def test_linear():
    # out * (2 * in + 1) = 5 * 21 = 105 ; batch of 3 rows -> 315
    assert count_flops(nn.Linear(10, 5), (1, 10)).total_flops == 105
    assert count_flops(nn.Linear(10, 5), (3, 10)).total_flops == 315


def test_conv_transpose():
    # ConvTranspose2d(4, 2, k=2, stride=2) on 1x4x3x3 -> 1x2x6x6
    # MACs on input positions: 3*3 * C_out 2 * (C_in 4 / 1) * 4 = 288 -> 576 FLOPs
    # + one bias add per output element: 2*6*6 = 72 -> 648
    r = count_flops(nn.ConvTranspose2d(4, 2, 2, stride=2), (1, 4, 3, 3))
    assert r.per_layer[0].output_shape == (1, 2, 6, 6)
    assert r.total_flops == 648


def test_pixel_shuffle_zero_and_other_rules():
    assert count_flops(nn.PixelShuffle(2), (1, 8, 4, 4)).total_flops == 0
    # activation: numel_out = 8*4*4 = 128
    assert count_flops(nn.ReLU6(), (1, 8, 4, 4)).total_flops == 128
    # BN: 0 by default (folded), 2 * numel with include_bn
    assert count_flops(nn.BatchNorm2d(8), (1, 8, 4, 4)).total_flops == 0
    assert count_flops(nn.BatchNorm2d(8), (1, 8, 4, 4), include_bn=True).total_flops == 256
    # pooling: numel_in = 128
    assert count_flops(nn.AdaptiveAvgPool2d(1), (1, 8, 4, 4)).total_flops == 128
    # upsampling: nearest 0, bilinear 7 per output element (1*8*8*8 = 512 -> 3584)
    assert count_flops(nn.Upsample(scale_factor=2), (1, 8, 4, 4)).total_flops == 0
    up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
    assert count_flops(up, (1, 8, 4, 4)).total_flops == 3584
    assert count_flops(nn.UpsamplingBilinear2d(scale_factor=2), (1, 8, 4, 4)).total_flops == 3584


def test_sequential_total_and_per_layer():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),  # 7040
        nn.BatchNorm2d(8),  # 0
        nn.ReLU(),  # 128
        nn.Conv2d(8, 8, 3, groups=8, padding=1),  # 2432
        nn.ReLU(),  # 128
        nn.AdaptiveAvgPool2d(1),  # 128
        nn.Flatten(),  # 0
        nn.Linear(8, 5),  # 5 * 17 = 85
    )
    model.train()
    r = count_flops(model, (1, 3, 4, 4))
    assert isinstance(r, FlopReport)
    assert r.total_flops == 7040 + 128 + 2432 + 128 + 128 + 85
    assert [layer.flops for layer in r.per_layer] == [7040, 0, 128, 2432, 128, 128, 0, 85]
    assert [layer.module_name for layer in r.per_layer] == [str(i) for i in range(8)]
    assert r.per_layer[0].type == "Conv2d" and r.per_layer[0].output_shape == (1, 8, 4, 4)
    assert r.per_layer[0].params == 3 * 8 * 9 + 8
    assert r.unsupported == []
    assert r.gflops == r.total_flops / 1e9
    assert model.training  # mode restored
    table = r.to_table()
    assert "TOTAL" in table and f"{r.total_flops:,}" in table and "Conv2d" in table


def test_params_match_numel_and_shared_modules():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1, bias=False))
    expected = sum(p.numel() for p in model.parameters())
    assert count_params(model) == expected == (3 * 8 * 9 + 8) + 16 + 32
    assert count_flops(model, (1, 3, 5, 5)).total_params == expected
    model[0].weight.requires_grad_(False)
    assert count_params(model, trainable_only=True) == expected - 3 * 8 * 9

    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(self.conv(x)) + x  # the add is functional: not counted

    r = count_flops(Twice(), (1, 2, 3, 3))
    # two calls of 3*3*2*(2*2 + 1) = 90 each; params counted once
    assert r.total_flops == 180 and len(r.per_layer) == 2
    assert r.total_params == 2 * 2 + 2


def test_unsupported_leaf_listed():
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    r = count_flops(model, (1, 4))
    assert r.total_flops == 4 * 9
    assert r.unsupported == ["LayerNorm"]
    assert "LayerNorm" in r.to_table()


def test_padding_zero_and_custom_rule():
    assert count_flops(nn.ZeroPad2d(1), (1, 2, 3, 3)).total_flops == 0
    assert count_flops(nn.ReflectionPad2d(1), (1, 2, 3, 3)).unsupported == []

    from edgesal.models.flops import _CUSTOM_RULES, register_flop_rule

    class Blur(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 0.5

    assert count_flops(Blur(), (1, 2, 3, 3)).unsupported == ["Blur"]

    @register_flop_rule(Blur)
    def _blur(module: nn.Module, inp: torch.Tensor | None, out: torch.Tensor) -> int:
        return out.numel()

    try:
        r = count_flops(nn.Sequential(Blur()), (1, 2, 3, 3))
        assert r.total_flops == 18 and r.unsupported == []
    finally:
        del _CUSTOM_RULES[Blur]
