"""VGG-11 (Simonyan & Zisserman, 2015, configuration "A") feature extractor, no weights.

The backbone of FastGaze (Theis et al., 2018, "Faster gaze prediction with dense networks
and Fisher pruning"). Plain 3×3 Conv+ReLU (no BatchNorm), 2×2 max pooling.
"""

from __future__ import annotations

from torch import nn

from .layers import FeatureBackbone
from .registry import register_backbone

# FastGaze / DenseGaze (Fisher pruning paper) backbones: definitions only; the normalisation
# is torchvision's, for weights in that layout.
TORCHVISION_MEAN, TORCHVISION_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

# Channels per stage; each stage after the first starts with a 2×2 max pool.
VGG11_STAGES = ((64,), (128,), (256, 256), (512, 512), (512, 512))


def _conv_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(inplace=True)]


@register_backbone("vgg11", mean=TORCHVISION_MEAN, std=TORCHVISION_STD)
class VGG11(FeatureBackbone):
    """VGG-11 features: (256, 512, 512, 512) channels at strides (4, 8, 16, 32).

    Taps: conv3_2, conv4_2, conv5_2 (after ReLU) and pool5. No pretrained weights ship
    with edgesal (``pretrained=True`` is refused).
    """

    def __init__(self) -> None:
        stem = nn.Sequential(*_conv_relu(3, VGG11_STAGES[0][0]))
        blocks: list[nn.Module] = []
        in_ch = VGG11_STAGES[0][0]
        for widths in VGG11_STAGES[1:]:
            layers: list[nn.Module] = [nn.MaxPool2d(2)]
            for width in widths:
                layers += _conv_relu(in_ch, width)
                in_ch = width
            blocks.append(nn.Sequential(*layers))
        blocks.append(nn.MaxPool2d(2))  # pool5
        super().__init__(stem, blocks, (1, 2, 3, 4), (256, 512, 512, 512), (4, 8, 16, 32), None)
