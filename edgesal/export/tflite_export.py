"""torch → TFLite with litert-torch (no ONNX hop); int8 = PT2E full-integer trunk, float head.

- Layout (``layout`` option): the model is wrapped so the TFLite input/output tensors are
  NHWC (1×H×W×3 → 1×H×W×1, the Android default) or NCHW (1×3×H×W → 1×1×H×W).
- fp32: ``litert_torch.convert``.
- int8: ``torch.export`` → ``prepare_pt2e`` with litert-torch's ``PT2EQuantizer``
  (symmetric per-channel int8 weights, int8 activations, histogram observers) →
  calibration → ``convert_pt2e`` → ``litert_torch.convert(quant_config=…)``. Nodes of the
  head are pre-marked as annotated-without-quantisation, so the head stays float and the
  output is float32 (see :mod:`edgesal.export.float_head`).
- ``io`` option: ``int8`` keeps the converter's default of folding the input quantise op
  into an int8 input tensor (scale / zero point in the tensor's quantisation parameters);
  ``float`` keeps a float32 input with an in-graph QUANTIZE op. litert-torch 0.10 has no
  public switch for this: the converter config's ``strict_qdq_mode`` is set for the
  duration of the call.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from edgesal.atomic import atomic_path
from edgesal.errors import EdgesalError
from edgesal.export.calibration import CalibrationSet
from edgesal.export.conversion_errors import conversion_error
from edgesal.export.float_head import in_float_scope
from edgesal.optional import import_optional
from edgesal.runtimes.metadata import KEY

WRAPPED = "net"  # attribute name of the model inside the layout wrapper


class LayoutWrapper(nn.Module):
    """NHWC in/out around an NCHW model (identity for ``nchw``)."""

    def __init__(self, net: nn.Module, layout: str):
        super().__init__()
        self.net = net
        self.nhwc = layout == "nhwc"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.nhwc:
            x = x.permute(0, 3, 1, 2)
        y = self.net(x)
        return y.permute(0, 2, 3, 1) if self.nhwc else y


def resolve_io(precision: str, io: str) -> str:
    """The input tensor type for ``precision`` and the ``io`` option (``auto`` → int8 for int8)."""
    if io == "auto":
        return "int8" if precision == "int8" else "float"
    if io == "int8" and precision != "int8":
        raise EdgesalError("tflite option io=int8 needs an int8 export (add --int8)")
    return io


def _node_module(node) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    path = list(stack.values())[-1][0] if stack else ""
    return path.removeprefix(WRAPPED + ".") if path != WRAPPED else ""


def _scoped_quantizer():
    """A litert-torch PT2EQuantizer that leaves the float head unannotated."""
    from litert_torch.quantize.pt2e_quantizer import PT2EQuantizer, get_symmetric_quantization_config
    from torchao.quantization.pt2e.quantizer import QuantizationAnnotation

    class FloatHeadQuantizer(PT2EQuantizer):
        def annotate(self, model: torch.fx.GraphModule) -> torch.fx.GraphModule:
            for node in model.graph.nodes:
                if node.op == "call_function" and in_float_scope(_node_module(node)):
                    node.meta["quantization_annotation"] = QuantizationAnnotation(_annotated=True)
            return super().annotate(model)

    return FloatHeadQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))


@contextlib.contextmanager
def _float_input(enabled: bool):
    """Temporarily make litert-torch's converter keep float inputs (``strict_qdq_mode``)."""
    if not enabled:
        yield
        return
    from litert_torch._convert import litert_converter

    api = litert_converter.converter_api_ext
    original = api.ConvertToTFLConfig
    if not hasattr(original(), "strict_qdq_mode"):
        raise EdgesalError("this litert-torch has no strict_qdq_mode: use --opt io=int8")

    def strict_config():
        config = original()
        config.strict_qdq_mode = True
        return config

    api.ConvertToTFLConfig = strict_config
    try:
        yield
    finally:
        api.ConvertToTFLConfig = original


def _quantize(wrapper: nn.Module, example: torch.Tensor, calibration: CalibrationSet, layout: str):
    from torchao.quantization.pt2e import move_exported_model_to_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = _scoped_quantizer()
    prepared = prepare_pt2e(torch.export.export(wrapper, (example,)).module(), quantizer)
    with torch.no_grad():
        for batch in calibration.batches:
            x = torch.from_numpy(batch)
            prepared(x.permute(0, 2, 3, 1).contiguous() if layout == "nhwc" else x)
    quantized = move_exported_model_to_eval(convert_pt2e(prepared, fold_quantize=False))
    quantized.training = False  # the graph is in eval form; litert-torch only reads this flag
    return quantized, quantizer


def export_tflite(model: nn.Module, spec, precision: str, calibration: CalibrationSet | None, out: Path,
                  options: dict) -> Path:
    """Write the ``.tflite`` artefact to ``out`` (via a temporary file in its folder)."""
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    litert_torch = import_optional("litert_torch", "tflite", "litert-torch")
    from litert_torch.quantize.quant_config import QuantConfig

    layout = options.get("layout", "nhwc")
    io = resolve_io(precision, options.get("io", "auto"))
    h, w = spec.input_hw
    example = torch.zeros((1, h, w, 3) if layout == "nhwc" else (1, 3, h, w))
    wrapper = LayoutWrapper(model.eval(), layout).eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if precision == "int8":
                quantized, quantizer = _quantize(wrapper, example, calibration, layout)
                with _float_input(io == "float"):
                    edge = litert_torch.convert(quantized, (example,),
                                                quant_config=QuantConfig(pt2e_quantizer=quantizer))
            else:
                edge = litert_torch.convert(wrapper, (example,))
    except EdgesalError:
        raise
    except Exception as exc:
        raise conversion_error("tflite", exc, wrapper, example) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".tflite-") as tmp:
        staged = Path(tmp) / "model.tflite"
        edge.export(str(staged))
        os.replace(staged, out)
    return out



def write_metadata(path: Path, meta: dict) -> None:
    """Embed ``meta`` as a flatbuffer ``Model.metadata`` entry ``edgesal`` (atomic rewrite)."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(path.read_bytes()))
    model.metadata = [m for m in (model.metadata or []) if (m.name or b"").decode() != KEY]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = KEY
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    with atomic_path(path) as tmp:
        tmp.write_bytes(flatbuffer_utils.convert_object_to_bytearray(model))
