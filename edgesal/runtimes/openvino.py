"""OpenVINO backend of :class:`~edgesal.runtimes.base.RuntimeSession` (CPU plugin).

Inference precision is pinned to f32 (``INFERENCE_PRECISION_HINT``): CPUs with bf16/fp16
support would otherwise run an fp32 IR in lower precision and parity would depend on the
machine.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.optional import import_optional
from edgesal.runtimes.base import RuntimeSession, TensorInfo, error_line
from edgesal.runtimes.signatures import validate_model_file

#: the C++ source location OpenVINO puts before (or on the line of) what went wrong
_SOURCE_LOCATION = re.compile(r"^(Exception from |Check '.*' failed at )?\S+\.(cpp|hpp|h):\d+:?\s*")


def openvino_message(exc: Exception) -> str:
    """The first line of an OpenVINO error that says what is wrong (no C++ source locations)."""
    return error_line(exc, _SOURCE_LOCATION)


class OpenVINOSession(RuntimeSession):
    runtime_name = "openvino"

    def __init__(self, path: str | Path, num_threads: int = 1):
        ov = import_optional("openvino", "openvino", "OpenVINO")
        from edgesal.runtimes.metadata import read_metadata

        path = validate_model_file(path)
        core = ov.Core()
        try:
            model = core.read_model(str(path))
            self.compiled = core.compile_model(model, "CPU", {
                "INFERENCE_NUM_THREADS": num_threads, "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_PRECISION_HINT": "f32",
            })
        except RuntimeError as exc:
            raise EdgesalError(f"OpenVINO cannot load {path}: {openvino_message(exc)}") from None
        self.request = self.compiled.create_infer_request()
        super().__init__(path, read_metadata(path))

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        def info(port) -> TensorInfo:
            return TensorInfo(tuple(int(d) for d in port.get_shape()), np.dtype(port.get_element_type().to_dtype()))

        return info(self.compiled.input(0)), info(self.compiled.output(0))

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        return self.request.infer({0: x})[self.compiled.output(0)].copy()
