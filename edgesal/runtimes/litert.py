"""LiteRT (TFLite) interpreter wrapper with model-file validation, and its RuntimeSession.

Part of the device-side runtime layer: numpy + a TFLite interpreter — ``ai-edge-litert``, or
on boards with old Pythons ``tflite-runtime`` / TensorFlow's ``tf.lite``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from .base import RuntimeSession, TensorInfo, error_line, filler, image_input
from .errors import EdgesalError
from .files import validate_model_file
from .metadata import KEY


def interpreter_class() -> type:
    """The TFLite ``Interpreter`` of whichever package is installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError:
            try:
                from tensorflow.lite import Interpreter  # type: ignore
            except ImportError:
                raise EdgesalError("LiteRT is missing: pip install 'edgesal[tflite]'") from None
    return Interpreter


class LiteRTModel:
    """A loaded .tflite model: named inputs in, named tensors out."""

    def __init__(self, path: str | Path, num_threads: int = 1, preserve_all_tensors: bool = False):
        interpreter = interpreter_class()
        self.path = validate_model_file(path)
        try:  # a truncated or corrupt FlatBuffer passes the header check but not the interpreter
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # preserve_all_tensors warns it is a debug option
                options = {"experimental_preserve_all_tensors": True} if preserve_all_tensors else {}
                self.interpreter = interpreter(model_path=str(self.path), num_threads=num_threads, **options)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise EdgesalError(f"LiteRT cannot load {self.path}: {error_line(exc)}") from None
        self.inputs = {d["name"]: d for d in self.interpreter.get_input_details()}
        self.outputs = {d["name"]: d for d in self.interpreter.get_output_details()}
        self._tensor_index = {d["name"]: d["index"] for d in self.interpreter.get_tensor_details()}

    def run(self, feeds: dict[str, np.ndarray], fetch: list[str] | None = None) -> dict[str, np.ndarray]:
        """Set inputs, invoke, return the requested tensors (default: the model outputs)."""
        for name, value in feeds.items():
            if name not in self.inputs:
                raise EdgesalError(f"{self.path.name}: no input named {name!r} (inputs: {list(self.inputs)})")
            self.interpreter.set_tensor(self.inputs[name]["index"], value)
        self.interpreter.invoke()
        names = fetch if fetch is not None else list(self.outputs)
        out = {}
        for name in names:
            if name not in self._tensor_index:
                raise EdgesalError(f"{self.path.name}: no tensor named {name!r}")
            out[name] = self.interpreter.get_tensor(self._tensor_index[name]).copy()
        return out


class LiteRTSession(RuntimeSession):
    """LiteRT backend of :class:`~edgesal.runtimes.base.RuntimeSession` (XNNPACK CPU)."""

    runtime_name = "litert"

    @staticmethod
    def load_library() -> object:
        return interpreter_class()

    def _open(self, num_threads: int) -> None:
        self.model = LiteRTModel(self.path, num_threads=num_threads)
        inputs = list(self.model.inputs.values())
        self._input = image_input(inputs, lambda d: d["shape"])
        for d in inputs:  # other inputs (e.g. a file-name string) get a constant filler once
            if d["index"] != self._input["index"]:
                self.model.interpreter.set_tensor(d["index"], filler(d["shape"], d["dtype"]))
        self._output = next(iter(self.model.outputs.values()))

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        def info(d: dict) -> TensorInfo:
            scale, zero_point = d["quantization"]
            return TensorInfo(tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"]), float(scale), int(zero_point))

        return info(self._input), info(self._output)

    def invoke(self, prepared: np.ndarray) -> np.ndarray:
        interp = self.model.interpreter
        interp.set_tensor(self._input["index"], prepared)
        interp.invoke()
        return interp.get_tensor(self._output["index"]).copy()

    @staticmethod
    def read_metadata(path: Path) -> dict:
        from ai_edge_litert import schema_py_generated as schema

        buf = path.read_bytes()
        model = schema.Model.GetRootAs(buf, 0)
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name() and entry.Name().decode() == KEY:
                buffer = model.Buffers(entry.Buffer())
                if buffer.Offset() > 1:  # large models keep buffers after the flatbuffer
                    data = buf[buffer.Offset():buffer.Offset() + buffer.Size()]
                else:
                    data = buffer.DataAsNumpy().tobytes()
                return json.loads(data.decode())
        return {}
