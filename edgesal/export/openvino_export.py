"""torch → ONNX → OpenVINO IR (``NAME_openvino/NAME.xml`` + ``.bin``); int8 with NNCF.

The IR is converted from the same fp32 ONNX graph as the ``onnx`` target
(``ov.convert_model``), so OpenVINO op names are the ONNX node names and the float head is
found the same way. fp16 stores fp16 weights (``compress_to_fp16``); execution precision
is the device's. int8: ``nncf.quantize_with_accuracy_control`` (MIXED preset: symmetric
int8 weights, asymmetric activations) with the head's ops in ``ignored_scope`` (names, plus
the ``/WithoutBiases`` sub-ops OpenVINO splits convolutions into). Plain ``nncf.quantize``
failed the int8 parity gate on `default` (ΔNSS 0.119; bias correction, quantiles, overflow
fix and a float decoder did not fix it), so NNCF keeps quantising everything only when the
metric below drops by at most :data:`MAX_EXPECTED_NSS_DROP`; otherwise it ranks layers and
returns the most sensitive ones to float until it does. The metric is the *expected NSS*
of the int8 map under the fp32 model's own density (NSS with the fp32 map's mass as
fixations), on every other calibration image: it needs no fixations and tracks the gate's
ΔNSS, which CC alone does not.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
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


#: the int8 model may lose this much expected NSS against fp32 (the parity gate allows ΔNSS 0.05)
MAX_EXPECTED_NSS_DROP = 0.02


def _density(compiled, x, output_kind: str) -> np.ndarray:
    """The model's map for ``x`` as a flat density (log-density → exp, sigmoid logits → sigmoid)."""
    out = np.asarray(compiled(x)[0], dtype=np.float64).reshape(-1)
    out = np.exp(out) if output_kind == "log_density" else 1.0 / (1.0 + np.exp(-out))
    return out / out.sum()


def expected_nss(compiled, items, output_kind: str = "log_density") -> float:
    """Mean over (input, fp32 density) items of Σ p_fp32 · standardised(map of ``compiled``)."""
    scores = []
    for x, reference in items:
        m = _density(compiled, x, output_kind)
        scores.append(float((reference * (m - m.mean()) / (m.std() + 1e-12)).sum()))
    return float(np.mean(scores))


def _quantize(nncf, ov, ov_model, spec, calibration: CalibrationSet, onnx_path: Path):
    """int8 with accuracy control (see the module docstring)."""
    fp32 = ov.Core().compile_model(ov_model, "CPU")
    validation = [(x, _density(fp32, x, spec.output_kind)) for x in calibration.batches[::2]]
    return nncf.quantize_with_accuracy_control(
        ov_model, nncf.Dataset(calibration.batches), nncf.Dataset(validation, lambda item: item[0]),
        validation_fn=partial(expected_nss, output_kind=spec.output_kind),
        max_drop=MAX_EXPECTED_NSS_DROP, drop_type=nncf.DropType.ABSOLUTE,
        subset_size=len(calibration), preset=nncf.QuantizationPreset.MIXED,
        ignored_scope=_ignored_scope(nncf, onnx_path))


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
            ov_model = _quantize(nncf, ov, ov_model, spec, calibration, onnx_path)
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
