"""torch → TFLite with litert-torch (no ONNX hop); int8 = PT2E full-integer trunk, float head.

- Layout (``layout`` option): the model is wrapped so the TFLite input/output tensors are
  NHWC (1×H×W×3 → 1×H×W×1, the Android default) or NCHW (1×3×H×W → 1×1×H×W).
- ``io`` option: ``float`` (default) = a float32 input named ``pixels`` holding RGB in
  [0, 1]; the wrapper normalises ``(x − mean) / std`` inside the graph (in float), because
  MediaPipe and the Task Library scale pixels with one mean/std only. For int8 models the
  trunk starts with an in-graph QUANTIZE op: litert-torch 0.10 has no public switch for it,
  so the converter config's ``strict_qdq_mode`` is set for the duration of the call.
  ``int8`` (int8 models only) = the converter's default: the input quantise op folds into an
  int8 input tensor ``args_0`` holding the *normalised* image (scale / zero point in the
  tensor's quantisation parameters). MediaPipe rejects int8 inputs.
- fp32: ``litert_torch.convert``.
- int8: ``torch.export`` → ``prepare_pt2e`` with litert-torch's ``PT2EQuantizer``
  (symmetric per-channel int8 weights, int8 activations, histogram observers) →
  calibration → ``convert_pt2e`` → ``litert_torch.convert(quant_config=…)``. Nodes of the
  head (and the input normalisation) are pre-marked as annotated-without-quantisation, so
  they stay float and the output is float32 (see :mod:`edgesal.export.float_head`).
- Metadata: the standard ``TFLITE_METADATA`` and edgesal's entry
  (:mod:`edgesal.export.tflite_metadata`), written once right after conversion (so the
  runtime knows the mean/std during the parity gate) and again with the full dict.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from edgesal.errors import EdgesalError
from edgesal.export.calibration import CalibrationSet
from edgesal.export.conversion_errors import conversion_error
from edgesal.export.float_head import in_float_scope
from edgesal.export.progress import own_stages, stage
from edgesal.export.tflite_metadata import write_metadata
from edgesal.models.temporal import STATE_INPUT, STATE_OUTPUT, is_stateful
from edgesal.optional import import_optional
from edgesal.runtimes.litert import PIXELS_INPUT

WRAPPED = "net"  # attribute name of the model inside the layout wrapper
NORMALISE = "normalise"  # attribute name of the in-graph normalisation (kept float)
MAP_OUTPUT = "output"  # signature name of a stateful model's map (its state: STATE_INPUT → STATE_OUTPUT)


class Normalise(nn.Module):
    """``(x − mean) / std`` per channel of an NCHW batch."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class LayoutWrapper(nn.Module):
    """NHWC in/out around an NCHW model (identity for ``nchw``); input = the normalised image."""

    def __init__(self, net: nn.Module, layout: str):
        super().__init__()
        self.net = net
        self.nhwc = layout == "nhwc"

    def nchw(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2) if self.nhwc else x

    def output(self, y: torch.Tensor) -> torch.Tensor:
        return y.permute(0, 2, 3, 1) if self.nhwc else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output(self.net(self.nchw(x)))


class PixelWrapper(LayoutWrapper):
    """A :class:`LayoutWrapper` whose input, named ``pixels``, is RGB in [0, 1]: it normalises."""

    def __init__(self, net: nn.Module, layout: str, mean, std):
        super().__init__(net, layout)
        self.normalise = Normalise(mean, std)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:  # the name becomes the TFLite input's
        return self.output(self.net(self.normalise(self.nchw(pixels))))


class StateWrapper(PixelWrapper):
    """A :class:`PixelWrapper` for a stateful (temporal) model: inputs ``pixels`` (the frame,
    ``layout``) and ``state`` (NCHW, as the model keeps it: opaque to the app, fed back as it
    came out); outputs named ``output`` (the map) and ``state_out`` — the TFLite signature's names,
    which the runtime pairs (``state`` → ``state_out``)."""

    def forward(self, pixels: torch.Tensor, state: torch.Tensor) -> dict[str, torch.Tensor]:
        log_density, state_out = self.net(self.normalise(self.nchw(pixels)), state)
        return {MAP_OUTPUT: self.output(log_density), STATE_OUTPUT: state_out}


def resolve_io(precision: str, io: str) -> str:
    """The input tensor type for ``precision`` and the ``io`` option (``int8`` needs an int8 model)."""
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
                module = _node_module(node)
                if node.op == "call_function" and (in_float_scope(module) or module.startswith(NORMALISE)):
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


def _sample(x: torch.Tensor | dict, pixels: bool) -> tuple[tuple, dict]:
    """(args, kwargs) for the wrapper: by name for a ``pixels`` input (it names the tensor); a dict
    is already the named inputs (a stateful model's frame and state)."""
    if isinstance(x, dict):
        return (), x
    return ((), {PIXELS_INPUT: x}) if pixels else ((x,), {})


def _prepare(wrapper: nn.Module, example: torch.Tensor | dict, pixels: bool):
    """``torch.export`` + ``prepare_pt2e`` (observers in place) → (prepared module, quantizer)."""
    from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e

    quantizer = _scoped_quantizer()
    return prepare_pt2e(torch.export.export(wrapper, *_sample(example, pixels)).module(), quantizer), quantizer


@torch.no_grad()
def _calibrate(prepared, wrapper: nn.Module, calibration: CalibrationSet, layout: str, pixels: bool) -> None:
    """Run the calibration batches (normalised, as every calibration batch is) through the observers."""
    for batch in calibration.batches:
        named = batch if isinstance(batch, dict) else {"input": batch}  # a stateful model's: + its state
        x = torch.from_numpy(named["input"])
        if pixels:
            x = x * wrapper.normalise.std + wrapper.normalise.mean
        x = x.permute(0, 2, 3, 1).contiguous() if layout == "nhwc" else x
        if isinstance(batch, dict):
            x = {PIXELS_INPUT: x, **{k: torch.from_numpy(v) for k, v in batch.items() if k != "input"}}
        batch_args, batch_kwargs = _sample(x, pixels)
        prepared(*batch_args, **batch_kwargs)


def _convert_int8(litert_torch, wrapper: nn.Module, example: torch.Tensor | dict, calibration: CalibrationSet,
                  layout: str, pixels: bool):
    """PT2E int8 (float head) → the litert-torch edge model; stages convert, calibrate, quantise."""
    from litert_torch.quantize.quant_config import QuantConfig
    from torchao.quantization.pt2e import move_exported_model_to_eval
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

    with stage("convert"):
        prepared, quantizer = _prepare(wrapper, example, pixels)
    with stage("calibrate", len(calibration)):
        _calibrate(prepared, wrapper, calibration, layout, pixels)
    with stage("quantise"):
        quantized = move_exported_model_to_eval(convert_pt2e(prepared, fold_quantize=False))
        quantized.training = False  # the graph is in eval form; litert-torch only reads this flag
        args, kwargs = _sample(example, pixels)
        with _float_input(pixels):
            return litert_torch.convert(quantized, args, kwargs, quant_config=QuantConfig(pt2e_quantizer=quantizer))


def _wrap(model: nn.Module, spec, layout: str, pixels: bool) -> tuple[nn.Module, torch.Tensor | dict]:
    """(the wrapper the converter traces, its example input: a dict of named inputs for a stateful model)."""
    h, w = spec.input_hw
    image = torch.zeros((1, h, w, 3) if layout == "nhwc" else (1, 3, h, w))
    if not is_stateful(model):
        wrapper = PixelWrapper(model, layout, spec.mean, spec.std) if pixels else LayoutWrapper(model, layout)
        return wrapper.eval(), image
    if not pixels:
        raise EdgesalError("tflite option io=int8 is not available for a stateful (temporal) model: its state "
                           "input stays float32 (use the default io=float)")
    if list(model.state_names) != [STATE_INPUT]:
        raise EdgesalError(f"tflite export of a stateful model needs one state tensor named {STATE_INPUT!r}, "
                           f"got {list(model.state_names)}")
    state = model.initial_state(tuple(spec.input_hw))[0]
    return StateWrapper(model, layout, spec.mean, spec.std).eval(), {PIXELS_INPUT: image, STATE_INPUT: state}


@own_stages
def export_tflite(model: nn.Module, spec, precision: str, calibration: CalibrationSet | None, out: Path,
                  options: dict) -> Path:
    """Write the ``.tflite`` artefact to ``out`` (via a temporary file in its folder). A stateful
    model gets the inputs ``pixels`` + ``state`` and outputs ``output`` + ``state_out``
    (:class:`StateWrapper`); int8 calibration batches then carry the state (dicts of named inputs)."""
    os.environ.setdefault("LITERT_TORCH_SHOW_PROGRESS", "n")
    with stage("load converter"):
        litert_torch = import_optional("litert_torch", "tflite", "litert-torch")
    layout = options.get("layout", "nhwc")
    pixels = resolve_io(precision, options.get("io", "float")) == "float"
    wrapper, example = _wrap(model.eval(), spec, layout, pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if precision == "int8":
                edge = _convert_int8(litert_torch, wrapper, example, calibration, layout, pixels)
            else:
                with stage("convert"):
                    edge = litert_torch.convert(wrapper, *_sample(example, pixels))
    except EdgesalError:
        raise
    except Exception as exc:
        image = example[PIXELS_INPUT] if isinstance(example, dict) else example
        raise conversion_error("tflite", exc, wrapper, image) from None
    with stage("save"):
        _save(edge, spec, layout, precision, out, example)
    return out


def _save(edge, spec, layout: str, precision: str, out: Path, example: torch.Tensor | dict) -> None:
    """Serialise the edge model to ``out`` with the first metadata (via a temporary file); a
    stateful model's metadata names its state pair (the standard entry describes it too)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"model": spec.name, "architecture": spec.name, "input_hw": list(spec.input_hw),
            "mean": list(spec.mean), "std": list(spec.std), "layout": layout,
            "output_kind": spec.output_kind, "precision": precision}
    if isinstance(example, dict):
        meta["state"] = [{"input": STATE_INPUT, "output": STATE_OUTPUT,
                          "shape": list(example[STATE_INPUT].shape)}]
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".tflite-") as tmp:
        staged = Path(tmp) / "model.tflite"
        edge.export(str(staged))
        write_metadata(staged, meta)
        os.replace(staged, out)


__all__ = ["LayoutWrapper", "Normalise", "PixelWrapper", "StateWrapper", "export_tflite", "resolve_io",
           "write_metadata"]
