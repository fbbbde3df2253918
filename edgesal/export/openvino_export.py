"""torch → ONNX → OpenVINO IR (``NAME_openvino/NAME.xml`` + ``.bin``); int8 with NNCF.

The IR is converted from the same fp32 ONNX graph as the ``onnx`` target
(``ov.convert_model``), so OpenVINO op names are the ONNX node names and the float head is
found the same way. fp16 stores fp16 weights (``compress_to_fp16``); execution precision
is the device's. int8: ``nncf.quantize`` (MIXED preset: symmetric int8 weights,
asymmetric activations) with the head's ops in ``ignored_scope`` (names, plus the
``/WithoutBiases`` sub-ops OpenVINO splits convolutions into).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from torch import nn

from edgesal.export.calibration import CalibrationSet
from edgesal.export.float_head import onnx_float_nodes
from edgesal.export.onnx_export import torch_to_onnx
from edgesal.optional import import_optional
from edgesal.runtimes.metadata import KEY


def _ignored_scope(nncf, onnx_path: Path):
    import onnx

    names = onnx_float_nodes(onnx.load(str(onnx_path)))
    patterns = [rf"^{re.escape(n)}(/.*)?$" for n in names]
    return nncf.IgnoredScope(patterns=patterns, validate=False)


def export_openvino(model: nn.Module, spec, precision: str, calibration: CalibrationSet | None, out: Path,
                    options: dict) -> Path:
    """Write ``out`` (an ``.xml``) and its ``.bin`` (via temporary files in their folder)."""
    ov = import_optional("openvino", "openvino", "OpenVINO")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".openvino-") as tmp:
        work = Path(tmp)
        onnx_path = torch_to_onnx(model, spec.input_hw, work / "fp32.onnx")
        ov_model = ov.convert_model(str(onnx_path))
        if precision == "int8":
            nncf = import_optional("nncf", "openvino", "NNCF")
            nncf.set_log_level(logging.ERROR)
            dataset = nncf.Dataset(calibration.batches)
            ov_model = nncf.quantize(ov_model, dataset, subset_size=len(calibration),
                                     preset=nncf.QuantizationPreset.MIXED,
                                     ignored_scope=_ignored_scope(nncf, onnx_path))
        staged = work / "model.xml"
        ov.save_model(ov_model, str(staged), compress_to_fp16=precision == "fp16")
        os.replace(staged.with_suffix(".bin"), out.with_suffix(".bin"))
        os.replace(staged, out)
    return out


def write_metadata(path: Path, meta: dict) -> None:
    """Embed ``meta`` as the ``rt_info`` entry ``edgesal`` of the ``.xml`` (weights rewritten as stored)."""
    ov = import_optional("openvino", "openvino", "OpenVINO")
    model = ov.Core().read_model(str(path))
    model.set_rt_info(json.dumps(meta), [KEY])
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".meta-") as tmp:
        staged = Path(tmp) / "model.xml"
        ov.save_model(model, str(staged), compress_to_fp16=False)  # weights keep their stored type
        staged.with_suffix(".bin").replace(path.with_suffix(".bin"))
        staged.replace(path)
