"""MobileNetV2 (Sandler et al., 2018), hand-written, with Coral/TF-slim ImageNet weights.

The only ImageNet weights available offline are Google Coral's uint8 quantisation-aware
trained TF-slim model (``mobilenet_v2_1.0_224_quant.tflite``). :func:`load_mobilenet_v2_from_coral`
dequantises its constant tensors and maps them onto :class:`MobileNetV2` by tensor name.
Inputs are RGB in [-1, 1]; the 1001-class head has class 0 = "background".
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch

from edgesal.errors import EdgesalError

from .layers import (
    ClassifierHead,
    ConvBNAct,
    FeatureBackbone,
    build_stages,
    make_divisible,
    unfold_batchnorm,
)
from .registry import register_backbone

CORAL_TFLITE_ENV = "EDGESAL_MOBILENET_V2_TFLITE"
CORAL_TFLITE_RELPATH = Path("weights/mobilenet_v2_coral/mobilenet_v2_1.0_224_quant.tflite")
# <repo>/../shared (this file is <repo>/edgesal/models/backbones/mobilenet_v2.py).
SHARED_DIR = Path(__file__).resolve().parents[3].parent / "shared"

# (expansion t, output channels c, repeats n, first stride s) — Table 2 of the paper.
INVERTED_RESIDUAL_SETTING = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class MobileNetV2(FeatureBackbone):
    """MobileNetV2 feature extractor: features at strides 4, 8, 16, 32.

    Width 1.0 gives channels (24, 32, 96, 320): the outputs of the last inverted residual
    of each stride (blocks 2, 5, 12, 16); the final 1×1 1280 conv belongs to the optional
    classification head (``with_head=True``, 1001 classes as in TF-slim).
    ``tf_same_padding=True`` pads stride-2 convolutions like TensorFlow (0 before, 1 after
    for k=3), which the TF-trained weights need for exact outputs.
    """

    def __init__(
        self,
        width_mult: float = 1.0,
        tf_same_padding: bool = True,
        with_head: bool = False,
        num_classes: int = 1001,
        dropout: float = 0.2,
    ) -> None:
        stem_channels = make_divisible(32 * width_mult)
        stem = ConvBNAct(3, stem_channels, 3, 2, tf_same_padding=tf_same_padding)
        settings = tuple(
            (t, make_divisible(c * width_mult), n, s, 3) for t, c, n, s in INVERTED_RESIDUAL_SETTING
        )
        blocks, taps, channels, strides = build_stages(
            stem_channels, settings, tf_same_padding=tf_same_padding
        )
        in_ch = settings[-1][1]
        last_channels = make_divisible(1280 * max(1.0, width_mult))
        head = ClassifierHead(in_ch, last_channels, num_classes, dropout) if with_head else None
        super().__init__(stem, blocks, taps, channels, strides, head)
        self.width_mult = width_mult
        self.tf_same_padding = tf_same_padding


# --- Coral TFLite → torch ------------------------------------------------------------------

_WEIGHT_RE = re.compile(r"^MobilenetV2/(?P<scope>.+)/weights_quant/FakeQuantWithMinMaxVars$")
_BIAS_RE = re.compile(r"^MobilenetV2/(?P<scope>.+)/(?:BatchNorm_Fold/bias|biases)$")
_BLOCK_RE = re.compile(r"^expanded_conv(?:_(?P<idx>\d+))?/(?P<part>expand|depthwise|project)$")


def _dequantize(values: np.ndarray, qparams: dict) -> np.ndarray:
    """float = scale * (q - zero_point), per tensor or per channel."""
    scales = np.asarray(qparams["scales"], dtype=np.float64)
    zero_points = np.asarray(qparams["zero_points"], dtype=np.float64)
    q = values.astype(np.float64)
    if scales.size > 1:  # per-channel along quantized_dimension
        shape = [1] * q.ndim
        shape[int(qparams["quantized_dimension"])] = scales.size
        scales, zero_points = scales.reshape(shape), zero_points.reshape(shape)
    elif scales.size == 0:  # not quantised
        return q.astype(np.float32)
    return (scales * (q - zero_points)).astype(np.float32)


def read_coral_tensors(tflite_path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Dequantised constants of the Coral MobileNetV2 by TF-slim scope.

    Returns ``{scope: {"weight": array, "bias": array}}`` with scopes such as ``Conv``,
    ``expanded_conv_3/depthwise``, ``Conv_1`` and ``Logits/Conv2d_1c_1x1``; weights keep
    the TFLite layouts (OHWI for convolutions, 1HWO for depthwise).
    """
    path = Path(tflite_path)
    if not path.is_file():
        raise EdgesalError(f"MobileNetV2 Coral weights not found: {path}")
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise EdgesalError("reading .tflite weights needs ai-edge-litert: pip install edgesal[tflite]") from exc
    try:
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise EdgesalError(f"cannot read {path} as a TFLite model: {exc}") from exc

    tensors: dict[str, dict[str, np.ndarray]] = {}
    for detail in interpreter.get_tensor_details():
        shape = tuple(int(v) for v in detail["shape"])
        is_weight = len(shape) == 4 and detail["dtype"] in (np.uint8, np.int8)
        is_bias = len(shape) == 1 and detail["dtype"] == np.int32
        if not (is_weight or is_bias):
            continue
        regex, kind = (_WEIGHT_RE, "weight") if is_weight else (_BIAS_RE, "bias")
        for component in detail["name"].split(";"):
            match = regex.match(component)
            if match:
                value = _dequantize(interpreter.get_tensor(detail["index"]), detail["quantization_parameters"])
                tensors.setdefault(match["scope"], {})[kind] = value
                break
    if "Conv" not in tensors:
        raise EdgesalError(f"{path} does not look like a TF-slim MobileNetV2 (no MobilenetV2/Conv weights)")
    return tensors


def _module_for_scope(model: MobileNetV2, scope: str) -> torch.nn.Module | None:
    if scope == "Conv":
        return model.stem
    if scope == "Conv_1":
        return model.head.conv if model.head is not None else None
    if scope == "Logits/Conv2d_1c_1x1":
        return model.head.fc if model.head is not None else None
    match = _BLOCK_RE.match(scope)
    if match is None:
        return None
    block = model.blocks[int(match["idx"] or 0)]
    return {"expand": block.expand, "depthwise": block.dw, "project": block.project}[match["part"]]


def load_mobilenet_v2_from_coral(model: MobileNetV2, tflite_path: str | Path) -> dict[str, int]:
    """Initialise ``model`` from the Coral uint8 MobileNetV2 1.0/224 ``.tflite``.

    Weights are dequantised (scale·(q − zero_point)); OHWI → OIHW and depthwise 1HWO →
    O1HW. BatchNorm was folded into the conv bias, so each BN is "un-folded" (weight 1,
    bias = folded bias, mean 0, var 1 − eps): conv+BN then equals the folded conv exactly.
    Every module of ``model`` must receive weights (head included when present).
    Returns counts: ``{"loaded": convs loaded, "skipped": tflite scopes not used}``.
    """
    tensors = read_coral_tensors(tflite_path)
    expected = {id(m) for m in model.modules() if isinstance(m, (ConvBNAct, torch.nn.Linear))}
    loaded, skipped = set(), 0
    for scope, arrays in tensors.items():
        module = _module_for_scope(model, scope)
        if module is None:
            skipped += 1
            continue
        if "weight" not in arrays or "bias" not in arrays:
            raise EdgesalError(f"{tflite_path}: scope {scope} lacks a weight or bias tensor")
        weight, bias = arrays["weight"], torch.from_numpy(arrays["bias"])
        if isinstance(module, torch.nn.Linear):  # 1×1 logits conv [O,1,1,I]
            target = module.weight
            weight_t = torch.from_numpy(weight.reshape(weight.shape[0], -1))
        elif module.conv.groups > 1:  # depthwise [1,H,W,O] → [O,1,H,W]
            target = module.conv.weight
            weight_t = torch.from_numpy(weight.transpose(3, 0, 1, 2).copy())
        else:  # [O,H,W,I] → [O,I,H,W]
            target = module.conv.weight
            weight_t = torch.from_numpy(weight.transpose(0, 3, 1, 2).copy())
        if weight_t.shape != target.shape:
            raise EdgesalError(
                f"{tflite_path}: {scope} has shape {tuple(weight_t.shape)}, the model expects "
                f"{tuple(target.shape)} (Coral weights are width 1.0, 1001 classes)"
            )
        with torch.no_grad():
            target.copy_(weight_t)
            if isinstance(module, torch.nn.Linear):
                module.bias.copy_(bias)
            else:
                unfold_batchnorm(module.bn, bias)
        loaded.add(id(module))
    if loaded != expected:
        raise EdgesalError(f"{tflite_path}: {len(expected - loaded)} layers of the model got no weights")
    return {"loaded": len(loaded), "skipped": skipped}


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


@register_backbone("mobilenet_v2", weights="Coral mobilenet_v2_1.0_224_quant.tflite, dequantised (Apache-2.0)",
                   num_classes=1001, class_offset=1)
def build_mobilenet_v2(pretrained: bool, **kwargs) -> MobileNetV2:
    model = MobileNetV2(**kwargs)
    if pretrained:
        load_mobilenet_v2_from_coral(model, coral_tflite_path())
    return model
