"""onnxruntime backend of :class:`~edgesal.runtimes.base.RuntimeSession` (CPU).

Part of the device-side runtime layer: numpy + onnxruntime (``onnx`` only to read metadata).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .base import (
    RuntimeSession,
    TensorInfo,
    error_line,
    filler,
    image_input,
    import_runtime,
    known_dims,
    state_pairs,
    static_dims,
)
from .errors import EdgesalError
from .metadata import KEY

_ORT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
              "tensor(int32)": np.int32, "tensor(uint8)": np.uint8, "tensor(int8)": np.int8,
              "tensor(bool)": np.bool_, "tensor(string)": np.object_}


class OnnxRuntimeSession(RuntimeSession):
    runtime_name = "onnxruntime"

    @staticmethod
    def load_library() -> object:
        return import_runtime("onnxruntime", "onnx", "onnxruntime")

    def _open(self, num_threads: int) -> None:
        ort = self.load_library()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise EdgesalError(f"onnxruntime cannot load {self.path}: {error_line(exc)}") from None

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        inputs = self.session.get_inputs()
        image = image_input(inputs, lambda i: i.shape)
        self._input_name = self.image_name = image.name
        outputs = self.session.get_outputs()
        self.state_pairs = state_pairs([i.name for i in inputs if i.name != image.name], [o.name for o in outputs])
        self.state_shapes = {i.name: static_dims(i.shape) for i in inputs if i.name in dict(self.state_pairs)}
        self._extra = {i.name: filler(static_dims(i.shape), _ORT_TYPES.get(i.type, np.float32))
                       for i in inputs if i.name != image.name and i.name not in self.state_shapes}
        out = outputs[0]
        self.output_name = out.name
        return (TensorInfo(static_dims(image.shape, self.hw_hint), np.dtype(_ORT_TYPES.get(image.type, np.float32))),
                TensorInfo(known_dims(out.shape), np.dtype(_ORT_TYPES.get(out.type, np.float32))))

    def _invoke_image(self, prepared: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._input_name: prepared, **self._extra})[0]

    def invoke_named(self, feeds: dict, fetch: list) -> list:
        return self.session.run(fetch, {**self._extra, **feeds})

    @staticmethod
    def read_metadata(path: Path) -> dict:
        import onnx

        model = onnx.load(str(path), load_external_data=False)
        props = {p.key: p.value for p in model.metadata_props}
        return json.loads(props[KEY]) if KEY in props else {}
