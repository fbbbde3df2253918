"""OpenVINO backend of :class:`~edgesal.runtimes.base.RuntimeSession` (CPU plugin).

Inference precision is pinned to f32 (``INFERENCE_PRECISION_HINT``): CPUs with bf16/fp16
support would otherwise run an fp32 IR in lower precision and parity would depend on the
machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.optional import import_optional
from edgesal.runtimes.base import RuntimeSession, TensorInfo
from edgesal.runtimes.signatures import SIGNATURES, read_header


def validate_openvino_file(path: str | Path) -> Path:
    """An ``.xml`` IR that starts like XML, declares a ``<net``, with its ``.bin`` beside it."""
    path = Path(path)
    head = read_header(path)
    if not head.lstrip().startswith(b"<?xml") or not SIGNATURES[".xml"](head):
        raise EdgesalError(f"not an OpenVINO IR (.xml with <net>): {path}")
    if not path.with_suffix(".bin").is_file():
        raise EdgesalError(f"OpenVINO weights missing: {path.with_suffix('.bin')}")
    return path


class OpenVINOSession(RuntimeSession):
    runtime_name = "openvino"

    def __init__(self, path: str | Path, num_threads: int = 1):
        ov = import_optional("openvino", "openvino", "OpenVINO")
        from edgesal.runtimes.metadata import read_metadata

        path = validate_openvino_file(path)
        core = ov.Core()
        try:
            model = core.read_model(str(path))
            self.compiled = core.compile_model(model, "CPU", {
                "INFERENCE_NUM_THREADS": num_threads, "PERFORMANCE_HINT": "LATENCY",
                "INFERENCE_PRECISION_HINT": "f32",
            })
        except RuntimeError as exc:
            raise EdgesalError(f"OpenVINO cannot load {path}: {str(exc).splitlines()[0]}") from None
        self.request = self.compiled.create_infer_request()
        super().__init__(path, read_metadata(path))

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        def info(port) -> TensorInfo:
            return TensorInfo(tuple(int(d) for d in port.get_shape()), np.dtype(port.get_element_type().to_dtype()))

        return info(self.compiled.input(0)), info(self.compiled.output(0))

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        return self.request.infer({0: x})[self.compiled.output(0)].copy()
