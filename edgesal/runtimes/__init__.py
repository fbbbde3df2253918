"""Inference runtimes (onnxruntime, LiteRT, OpenVINO) behind one interface.

    session = load_runtime("model.tflite", num_threads=1)
    out = session.run(batch)      # (B, 3, H, W) normalised float32 → (B, 1, H, W) float32
    session.metadata              # the edgesal metadata dict embedded in the artefact
    session.runtime_name          # "onnxruntime" | "litert" | "openvino"
    session.input_hw, session.layout

See :mod:`edgesal.runtimes.base` for the contract.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from edgesal.errors import EdgesalError
from edgesal.runtimes.base import RuntimeSession, TensorInfo

#: file suffix → "module:class" (imported on first use: OpenVINO is an optional extra)
RUNTIMES: dict[str, str] = {
    ".onnx": "edgesal.runtimes.onnxruntime:OnnxRuntimeSession",
    ".tflite": "edgesal.runtimes.litert:LiteRTSession",
    ".xml": "edgesal.runtimes.openvino:OpenVINOSession",
}


def load_runtime(path: str | Path, num_threads: int = 1) -> RuntimeSession:
    """Open an exported artefact in its runtime (validated: exists, right format)."""
    path = Path(path)
    if path.is_dir():  # an OpenVINO artefact folder: the .xml inside
        xmls = sorted(path.glob("*.xml"))
        if len(xmls) != 1:
            raise EdgesalError(f"{path}: expected one .xml in the folder, found {len(xmls)}")
        path = xmls[0]
    key = path.suffix.lower()
    if key not in RUNTIMES:
        raise EdgesalError(f"no runtime for {path.name!r}: expected one of {', '.join(RUNTIMES)}")
    module, cls = RUNTIMES[key].split(":")
    return getattr(importlib.import_module(module), cls)(path, num_threads=num_threads)


__all__ = ["RUNTIMES", "RuntimeSession", "TensorInfo", "load_runtime"]
