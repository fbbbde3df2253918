"""torch → ONNX (opset 18, one file, fixed 1×3×H×W input), fp16 and int8 QDQ variants.

- fp32: ``torch.onnx.export(dynamo=True, external_data=False)``, checked by ``onnx.checker``.
- fp16: onnxruntime's ``float16`` converter with float32 I/O; the head stays float32.
- int8: ``quant_pre_process`` then ``quantize_static`` — QDQ, per-channel, uint8
  activations / int8 weights (U8S8), MinMax calibration; the head's nodes are passed as
  ``nodes_to_exclude`` so they stay float (see :mod:`edgesal.export.float_head`).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from edgesal.atomic import atomic_path
from edgesal.export.calibration import CalibrationSet
from edgesal.export.conversion_errors import conversion_error
from edgesal.export.float_head import onnx_float_nodes
from edgesal.export.progress import own_stages, stage
from edgesal.optional import import_optional
from edgesal.runtimes.metadata import KEY

OPSET = 18
INPUT_NAME, OUTPUT_NAME = "input", "output"


def torch_to_onnx(model: nn.Module, input_hw: tuple[int, int], path: Path) -> Path:
    """Export the fp32 graph with a fixed (1, 3, H, W) input (plus the state tensors of a
    stateful model, ``state`` → ``state_out``) to ``path`` and check it."""
    import_optional("onnxscript", "onnx", "onnxscript (the torch.onnx dynamo exporter)")
    import onnx

    from edgesal.models.temporal import export_signature

    examples, input_names, output_names = export_signature(model, input_hw, INPUT_NAME, OUTPUT_NAME)
    example = examples[0]
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)  # e.g. "torchvision is not installed"
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(model.eval(), examples, str(path), dynamo=True, external_data=False,
                              input_names=input_names, output_names=output_names, opset_version=OPSET,
                              verbose=False)
        onnx.checker.check_model(str(path))
    except Exception as exc:
        raise conversion_error("onnx", exc, model, example) from None
    return path


class _Reader:
    """onnxruntime CalibrationDataReader over preprocessed batches (or dicts of named inputs)."""

    def __init__(self, batches: list[np.ndarray]):
        self._it = iter(batches)

    def get_next(self) -> dict | None:
        batch = next(self._it, None)
        if isinstance(batch, dict):
            return {name: value.astype(np.float32) for name, value in batch.items()}
        return None if batch is None else {INPUT_NAME: batch.astype(np.float32)}


def _quantize_int8(fp32: Path, out: Path, calibration: CalibrationSet, work: Path) -> None:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    # the float head is found in the fp32 graph: pre-processing keeps node names but drops the
    # name scopes onnx_float_nodes reads (reading `pre` once quantised the whole head)
    float_nodes = onnx_float_nodes(onnx.load(str(fp32)))
    pre = work / "pre.onnx"
    quant_pre_process(str(fp32), str(pre))
    quantize_static(str(pre), str(out), _Reader(calibration.batches), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    nodes_to_exclude=float_nodes)


def _convert_fp16(fp32: Path, out: Path) -> None:
    import onnx
    from onnxruntime.transformers import float16

    model = onnx.load(str(fp32))
    onnx.save(float16.convert_float_to_float16(model, keep_io_types=True, node_block_list=onnx_float_nodes(model)),
              str(out))


@own_stages
def export_onnx(model: nn.Module, spec, precision: str, calibration: CalibrationSet | None, out: Path,
                options: dict) -> Path:
    """Write the ONNX artefact to ``out`` (via a temporary file in its folder)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".onnx-") as tmp:
        work = Path(tmp)
        with stage("convert"):
            fp32 = torch_to_onnx(model, spec.input_hw, work / "fp32.onnx")
        result = work / "model.onnx"
        if precision == "int8":
            with stage("calibrate + quantise", len(calibration)):  # one onnxruntime call does both
                _quantize_int8(fp32, result, calibration, work)
        elif precision == "fp16":
            with stage("fp16"):
                _convert_fp16(fp32, result)
        else:
            result = fp32
        os.replace(result, out)
    return out


def write_metadata(path: Path, meta: dict) -> None:
    """Embed ``meta`` as the ``edgesal`` entry of ``metadata_props`` (atomic rewrite)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    kept = [p for p in model.metadata_props if p.key != KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=KEY, value=json.dumps(meta))
    with atomic_path(path) as tmp:
        onnx.save(model, str(tmp))
