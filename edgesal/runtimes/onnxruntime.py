"""onnxruntime backend of :class:`~edgesal.runtimes.base.RuntimeSession` (CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.runtimes.base import RuntimeSession, TensorInfo, error_line
from edgesal.runtimes.signatures import validate_model_file

_ORT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(uint8)": np.uint8,
              "tensor(int8)": np.int8}


class OnnxRuntimeSession(RuntimeSession):
    runtime_name = "onnxruntime"

    def __init__(self, path: str | Path, num_threads: int = 1):
        import onnxruntime as ort

        from edgesal.runtimes.metadata import read_metadata

        path = validate_model_file(path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise EdgesalError(f"onnxruntime cannot load {path}: {error_line(exc)}") from None
        super().__init__(path, read_metadata(path))

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        def info(arg) -> TensorInfo:
            return TensorInfo(tuple(int(d) for d in arg.shape), np.dtype(_ORT_TYPES.get(arg.type, np.float32)))

        ins, outs = self.session.get_inputs(), self.session.get_outputs()
        self._input_name = ins[0].name
        return info(ins[0]), info(outs[0])

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._input_name: x})[0]
