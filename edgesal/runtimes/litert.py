"""LiteRT (TFLite) interpreter wrapper with model-file validation, and its RuntimeSession."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.runtimes.base import RuntimeSession, TensorInfo, error_line
from edgesal.runtimes.signatures import validate_model_file


class LiteRTModel:
    """A loaded .tflite model: named inputs in, named tensors out."""

    def __init__(self, path: str | Path, num_threads: int = 1, preserve_all_tensors: bool = False):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - core dependency
            raise EdgesalError("LiteRT is missing: pip install 'edgesal[tflite]'") from exc
        self.path = validate_model_file(path)
        try:  # a truncated or corrupt FlatBuffer passes the header check but not the interpreter
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # preserve_all_tensors warns it is a debug option
                self.interpreter = Interpreter(
                    model_path=str(self.path),
                    num_threads=num_threads,
                    experimental_preserve_all_tensors=preserve_all_tensors,
                )
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

    def __init__(self, path: str | Path, num_threads: int = 1):
        from edgesal.runtimes.metadata import read_metadata

        self.model = LiteRTModel(path, num_threads=num_threads)
        self._input = next(iter(self.model.inputs.values()))
        self._output = next(iter(self.model.outputs.values()))
        super().__init__(self.model.path, read_metadata(self.model.path))

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        def info(d: dict) -> TensorInfo:
            scale, zero_point = d["quantization"]
            return TensorInfo(tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"]), float(scale), int(zero_point))

        return info(self._input), info(self._output)

    def _invoke(self, x: np.ndarray) -> np.ndarray:
        interp = self.model.interpreter
        interp.set_tensor(self._input["index"], x)
        interp.invoke()
        return interp.get_tensor(self._output["index"]).copy()
