"""OpenVINO backend of :class:`~edgesal.runtimes.base.RuntimeSession` (CPU plugin).

Inference precision is pinned to f32 (``INFERENCE_PRECISION_HINT``): CPUs with bf16/fp16
support would otherwise run an fp32 IR in lower precision and parity would depend on the
machine. Reads the IR (``.xml`` + ``.bin``) and, for ``edgesal bench``, ONNX files.

Part of the device-side runtime layer: numpy + openvino (an optional extra).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .base import RuntimeSession, TensorInfo, error_line, import_runtime, known_dims, state_pairs, static_dims
from .errors import EdgesalError
from .metadata import KEY

#: the C++ source location OpenVINO puts before (or on the line of) what went wrong
_SOURCE_LOCATION = re.compile(r"^(Exception from |Check '.*' failed at )?\S+\.(cpp|hpp|h):\d+:?\s*")


def openvino_message(exc: Exception) -> str:
    """The first line of an OpenVINO error that says what is wrong (no C++ source locations)."""
    return error_line(exc, _SOURCE_LOCATION)


class OpenVINOSession(RuntimeSession):
    runtime_name = "openvino"

    @staticmethod
    def load_library() -> object:
        return import_runtime("openvino", "openvino", "OpenVINO")

    def _open(self, num_threads: int) -> None:
        self._core = self.load_library().Core()
        self._threads = num_threads
        try:
            self._model = self._core.read_model(str(self.path))
        except RuntimeError as exc:
            raise EdgesalError(f"OpenVINO cannot load {self.path}: {openvino_message(exc)}") from None

    def _compile(self, shape: tuple[int, ...]) -> None:
        port = self._model.inputs[0]
        if not port.get_partial_shape().is_static:
            self._model.reshape({port.any_name: list(shape)})
        config = {"INFERENCE_NUM_THREADS": self._threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
                  "INFERENCE_PRECISION_HINT": "f32"}
        try:
            self.compiled = self._core.compile_model(self._model, "CPU", config)
        except RuntimeError as exc:
            raise EdgesalError(f"OpenVINO cannot load {self.path}: {openvino_message(exc)}") from None
        self.request = self.compiled.create_infer_request()

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        partial = self._model.inputs[0].get_partial_shape()
        shape = static_dims([d.get_length() if d.is_static else -1 for d in partial], self.hw_hint)
        self._compile(shape)
        inputs = [p.any_name for p in self._model.inputs]
        self.image_name, self.output_name = inputs[0], self.compiled.output(0).any_name
        self.state_pairs = state_pairs(inputs[1:], [p.any_name for p in self.compiled.outputs])
        self.state_shapes = {p.any_name: tuple(p.get_shape()) for p in self._model.inputs
                             if p.any_name in dict(self.state_pairs)}
        out = self.compiled.output(0)
        out_shape = known_dims([d.get_length() if d.is_static else -1 for d in out.get_partial_shape()])
        return (TensorInfo(shape, np.dtype(self.compiled.input(0).get_element_type().to_dtype())),
                TensorInfo(out_shape, np.dtype(out.get_element_type().to_dtype())))

    def _invoke_image(self, prepared: np.ndarray) -> np.ndarray:
        return self.request.infer({0: prepared})[self.compiled.output(0)].copy()

    def invoke_named(self, feeds: dict, fetch: list) -> list:
        results = self.request.infer(feeds)
        return [results[self.compiled.output(name)].copy() for name in fetch]

    @staticmethod
    def read_metadata(path: Path) -> dict:
        model = OpenVINOSession.load_library().Core().read_model(str(path))
        if not model.has_rt_info([KEY]):
            return {}
        return json.loads(model.get_rt_info([KEY]).astype(str))
