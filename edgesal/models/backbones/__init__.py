"""Backbone registry: hand-written ImageNet backbones returning multi-level features.

``build_backbone(name, pretrained)`` builds a feature extractor whose ``forward`` returns a
list of feature maps at ``model.feature_strides`` with ``model.feature_channels``.
Each backbone file registers itself with :func:`register_backbone`; its
:class:`BackboneSpec` carries the input normalisation its weights expect. Importing a
backbone module here is what makes it available.
"""

from __future__ import annotations

from .densenet import DenseNet121
from .efficientnet_lite import EfficientNetLite0, load_efficientnet_lite0_weights
from .mobilenet_v2 import CORAL_TFLITE_ENV, MobileNetV2, coral_tflite_path, load_mobilenet_v2_from_coral
from .registry import BACKBONES, BackboneSpec, build_backbone, get_backbone_spec, register_backbone
from .uva_tiny import UVABackbone
from .vgg import VGG11

__all__ = [
    "BACKBONES",
    "CORAL_TFLITE_ENV",
    "VGG11",
    "BackboneSpec",
    "DenseNet121",
    "EfficientNetLite0",
    "MobileNetV2",
    "UVABackbone",
    "build_backbone",
    "coral_tflite_path",
    "get_backbone_spec",
    "load_efficientnet_lite0_weights",
    "load_mobilenet_v2_from_coral",
    "register_backbone",
]
