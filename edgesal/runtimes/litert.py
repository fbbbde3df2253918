"""LiteRT (TFLite) interpreter wrapper with model-file validation, and its RuntimeSession.

Part of the device-side runtime layer: numpy + a TFLite interpreter — ``ai-edge-litert``, or
on boards with old Pythons ``tflite-runtime`` / TensorFlow's ``tf.lite``.
"""

from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path

import numpy as np

from .base import RuntimeSession, TensorInfo, error_line, filler, image_input, state_pairs
from .errors import EdgesalError
from .files import validate_model_file
from .metadata import KEY

PIXELS_INPUT = "pixels"  # an input named so takes RGB in [0, 1]: the graph normalises (edgesal exports)


def takes_pixels(tensor_name: str) -> bool:
    """True for an input that takes RGB in [0, 1] and normalises inside the graph.

    edgesal's float-input TFLite exports name their input ``pixels`` (LiteRT shows it as
    ``serving_default_pixels[:0]``) so that MediaPipe / the Task Library, which only scale
    pixels with one mean/std, feed them as they are; int8-input exports take the normalised
    image as ``args_0``.
    """
    return tensor_name.split(":")[0].rsplit("_", 1)[-1] == PIXELS_INPUT


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


class _FlatBuffer:
    """Just enough FlatBuffers to read tables, vectors and strings (no generated code: a
    device with only ``tflite-runtime`` has no schema classes)."""

    def __init__(self, buf: bytes):
        self.buf = buf

    def u32(self, at: int) -> int:
        return struct.unpack_from("<I", self.buf, at)[0]

    def field(self, table: int, field_id: int) -> int:
        """Absolute position of a table's field (0 when absent)."""
        vtable = table - struct.unpack_from("<i", self.buf, table)[0]
        slot = 4 + 2 * field_id
        if slot >= struct.unpack_from("<H", self.buf, vtable)[0]:
            return 0
        offset = struct.unpack_from("<H", self.buf, vtable + slot)[0]
        return table + offset if offset else 0

    def ref(self, table: int, field_id: int) -> int:
        """Where a field's offset points to (0 when absent)."""
        at = self.field(table, field_id)
        return at + self.u32(at) if at else 0

    def vector(self, table: int, field_id: int) -> tuple[int, int]:
        """(start of the elements, length) of a vector field ((0, 0) when absent)."""
        at = self.ref(table, field_id)
        return (at + 4, self.u32(at)) if at else (0, 0)

    def tables(self, table: int, field_id: int) -> list[int]:
        start, n = self.vector(table, field_id)
        return [start + 4 * i + self.u32(start + 4 * i) for i in range(n)]

    def bytes(self, table: int, field_id: int) -> bytes:
        start, n = self.vector(table, field_id)
        return self.buf[start:start + n]


def metadata_entry(buf: bytes, name: str) -> bytes | None:
    """The bytes of the ``Model.metadata`` entry ``name`` of a .tflite file's contents (None if absent).

    TFLite schema: Model field 4 = buffers, 6 = metadata; Metadata = (name, buffer index);
    Buffer = (data, offset, size) — large models keep the data after the FlatBuffer.
    """
    fb = _FlatBuffer(buf)
    root = fb.u32(0)
    buffers = fb.tables(root, 4)
    for entry in fb.tables(root, 6):
        if fb.bytes(entry, 0).decode("utf-8", "replace") == name:
            at = fb.field(entry, 1)
            buffer = buffers[fb.u32(at) if at else 0]
            offset_at = fb.field(buffer, 1)
            offset = struct.unpack_from("<Q", buf, offset_at)[0] if offset_at else 0
            if offset > 1:
                size_at = fb.field(buffer, 2)
                return buf[offset:offset + (struct.unpack_from("<Q", buf, size_at)[0] if size_at else 0)]
            return fb.bytes(buffer, 0)
    return None


def signature_io(interpreter) -> tuple[dict, dict]:
    """(inputs, outputs) of the model's one signature as {signature name: tensor details}; ({}, {})
    without exactly one signature or on runtimes without signature runners (old tflite-runtime).

    Signature names are the names the exporter gave (edgesal's stateful exports: ``pixels`` +
    ``state`` → ``output`` + ``state_out``); tensor names are the converter's
    (``serving_default_state_out_output``), so state tensors are paired by signature name.
    """
    try:
        signatures = interpreter.get_signature_list()
        if len(signatures) != 1:
            return {}, {}
        runner = interpreter.get_signature_runner(next(iter(signatures)))
        return runner.get_input_details(), runner.get_output_details()
    except (AttributeError, ValueError):
        return {}, {}


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
        sig_inputs, sig_outputs = signature_io(self.model.interpreter)
        self.state_pairs = state_pairs(list(sig_inputs), list(sig_outputs))
        self._named = {name: d["index"] for name, d in {**sig_inputs, **sig_outputs}.items()}
        state_index = {sig_inputs[i]["index"] for i, _ in self.state_pairs}
        self.state_shapes = {i: tuple(int(d) for d in sig_inputs[i]["shape"]) for i, _ in self.state_pairs}
        inputs = [d for d in self.model.inputs.values() if d["index"] not in state_index]
        self._input = image_input(inputs, lambda d: d["shape"])
        for d in inputs:  # other inputs (e.g. a file-name string) get a constant filler once
            if d["index"] != self._input["index"]:
                self.model.interpreter.set_tensor(d["index"], filler(d["shape"], d["dtype"]))
        state_out = {sig_outputs[o]["index"] for _, o in self.state_pairs}
        self._output = next(d for d in self.model.outputs.values() if d["index"] not in state_out)
        if self.state_pairs:  # invoke_state feeds and fetches by signature name
            by_index = {d["index"]: name for name, d in {**sig_inputs, **sig_outputs}.items()}
            self.image_name, self.output_name = by_index[self._input["index"]], by_index[self._output["index"]]
        self._pixels = takes_pixels(self._input["name"])
        self._normalisation: tuple[np.ndarray, np.ndarray] | None = None

    def _mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        """The model's mean/std (NCHW-broadcastable): the metadata given, else the file's own."""
        if self._normalisation is None:
            meta = self.metadata if "mean" in self.metadata else self.read_metadata(self.path)
            if "mean" not in meta or "std" not in meta:
                raise EdgesalError(f"{self.path.name}: input {PIXELS_INPUT!r} takes RGB in [0, 1] but the file "
                                   "has no edgesal mean/std to undo the normalisation with")
            self._normalisation = tuple(np.asarray(meta[k], np.float32).reshape(1, -1, 1, 1) for k in ("mean", "std"))
        return self._normalisation

    def prepare(self, x: np.ndarray):
        """Normalised NCHW float32 → the model's input (back to RGB in [0, 1] for a ``pixels`` input)."""
        if self._pixels:
            mean, std = self._mean_std()
            x = np.asarray(x, np.float32) * std + mean
        return super().prepare(x)

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        def info(d: dict) -> TensorInfo:
            scale, zero_point = d["quantization"]
            return TensorInfo(tuple(int(s) for s in d["shape"]), np.dtype(d["dtype"]), float(scale), int(zero_point))

        return info(self._input), info(self._output)

    def _invoke_image(self, prepared: np.ndarray) -> np.ndarray:
        interp = self.model.interpreter
        interp.set_tensor(self._input["index"], prepared)
        interp.invoke()
        return interp.get_tensor(self._output["index"]).copy()

    def invoke_named(self, feeds: dict, fetch: list) -> list:
        """Run with inputs and outputs named as in the model's signature (state tensors)."""
        interp = self.model.interpreter
        for name, value in feeds.items():
            interp.set_tensor(self._named[name], value)
        interp.invoke()
        return [interp.get_tensor(self._named[name]).copy() for name in fetch]

    @staticmethod
    def read_metadata(path: Path) -> dict:
        try:
            data = metadata_entry(path.read_bytes(), KEY)
        except (struct.error, IndexError):  # offsets pointing outside the file
            raise EdgesalError(f"{path}: not a valid .tflite model (its FlatBuffer tables are truncated)") from None
        return {} if data is None else json.loads(data.decode())
