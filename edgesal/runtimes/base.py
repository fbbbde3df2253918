"""One interface over the inference runtimes, in-process and on a device.

``session.run(batch)`` takes what the torch model takes — a float32 NCHW batch
(B, 3, H, W), already normalised ``(x − mean) / std`` — and returns what the torch model
returns: float32 (B, 1, h, w) — the input size, or smaller for a head with an output
stride — in the model's output semantics (``metadata["output_kind"]``: natural-log
density, or sigmoid logits). Layout (NHWC) and int8 input/output quantisation
are handled inside, from the model's own tensor descriptions. For timing, the same steps
are exposed separately: ``prepare`` (NCHW float32 → the model's input), ``invoke`` (the
runtime call alone) and ``maps`` (NCHW → (N, H, W) float32 maps).

Backends implement ``_open``, ``_describe_io``, ``_invoke_image`` and ``read_metadata``. Third-party
models are accepted too: symbolic dimensions take the ``input_hw`` hint, extra inputs get
a constant filler.

**State tensors** (temporal models run frame by frame): an input ``X`` with an output ``X_out``
is a state pair (:func:`state_pairs`). A backend that supports them lists the pairs in
``state_pairs`` and implements ``invoke_named``; the session then keeps the state: each
``invoke`` feeds the current state and keeps the new one (so ``maps`` and the bench's timed
calls include it), ``reset_state()`` zeros it (a new clip), and ``run(batch)`` treats the batch
as one clip in order (state reset first). Models without such pairs behave as before.

This module is part of the device-side runtime layer: numpy + standard library, Python 3.8.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from .errors import EdgesalError
from .files import validate_model_file
from .metadata import read_metadata


@dataclass(frozen=True)
class TensorInfo:
    """Shape, dtype and (for integer tensors) affine quantisation of a model input/output."""

    shape: tuple[int, ...]
    dtype: np.dtype
    scale: float = 0.0
    zero_point: int = 0

    @property
    def quantized(self) -> bool:
        return np.issubdtype(self.dtype, np.integer) and self.scale > 0


def error_line(exc: Exception, noise: re.Pattern | None = None) -> str:
    """The first non-empty line of a runtime's exception message once ``noise`` (e.g. a C++
    source location) is removed from each line; the exception's type name if none is left."""
    lines = (noise.sub("", line) if noise else line for line in str(exc).splitlines())
    return next((line.strip() for line in lines if line.strip()), type(exc).__name__)


def import_runtime(module: str, extra: str, what: str) -> ModuleType:
    """Import a runtime library or raise a one-line error naming ``pip install 'edgesal[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EdgesalError(f"{what} is not installed ({exc.name or module}): pip install 'edgesal[{extra}]'") from None


def infer_layout(shape: Sequence[int]) -> str:
    """``nhwc`` when the last axis looks like channels (1 or 3) and the second does not; else ``nchw``."""
    return "nhwc" if len(shape) == 4 and shape[3] in (1, 3) and shape[1] not in (1, 3) else "nchw"


def static_dims(shape: Sequence, hw: Sequence[int] | None = None) -> tuple[int, ...]:
    """Replace symbolic/unknown dims (batch → 1; spatial → ``hw`` when given)."""
    dims = [int(d) if isinstance(d, (int, np.integer)) and d > 0 else None for d in shape]
    if dims and dims[0] is None:
        dims[0] = 1
    if None in dims and hw and len(dims) == 4:
        h_axis, w_axis = (1, 2) if dims[-1] in (1, 3) else (2, 3)
        dims[h_axis] = dims[h_axis] or int(hw[0])
        dims[w_axis] = dims[w_axis] or int(hw[1])
    if None in dims:
        raise EdgesalError(f"input shape {list(shape)} is dynamic; give input_hw in the metadata")
    return tuple(dims)


def known_dims(shape: Sequence) -> tuple[int, ...]:
    """A shape with symbolic/unknown dims as -1 (for outputs: nothing is fed there)."""
    return tuple(int(d) if isinstance(d, (int, np.integer)) and d > 0 else -1 for d in shape)


def image_input(inputs: list, shape_of) -> object:
    """The image input among a model's inputs: the first 4-D one (else the first)."""
    return next((i for i in inputs if len(shape_of(i)) == 4), inputs[0])


STATE_OUTPUT_SUFFIX = "_out"


def state_pairs(input_names: Sequence[str], output_names: Sequence[str]) -> list:
    """(input, output) names of the state tensors: every input ``X`` with an output ``X_out``."""
    outputs = set(output_names)
    return [(name, name + STATE_OUTPUT_SUFFIX) for name in input_names if name + STATE_OUTPUT_SUFFIX in outputs]


def filler(shape: Sequence[int], dtype) -> np.ndarray:
    """A constant value for a non-image input (zeros; a placeholder for string tensors)."""
    if np.dtype(dtype).kind in "SUO":
        return np.full([int(d) for d in shape], b"input.jpg", dtype=object)
    return np.zeros([int(d) for d in shape], dtype=dtype)


def as_maps(out: np.ndarray) -> np.ndarray:
    """A model output → (N, H, W) float32 maps (drops a singleton channel, NCHW or NHWC)."""
    out = np.asarray(out, dtype=np.float32)
    if out.ndim == 4:
        out = out[..., 0] if out.shape[-1] == 1 and out.shape[1] != 1 else out[:, 0]
    elif out.ndim == 2:
        out = out[None]
    return out


class RuntimeSession:
    """A loaded model; see the module docstring for the ``run`` contract.

    ``metadata=None`` reads the edgesal metadata embedded in the file (in-process); the
    device runner passes what the host knows instead (``layout``, ``input_hw``).
    """

    runtime_name = "runtime"
    image_name = "input"  # the image input's and the map output's names (used with state tensors)
    output_name = "output"

    def __init__(self, path: str | Path, num_threads: int = 1, metadata: dict | None = None):
        self.path = self._check(path)
        self.state: dict = {}
        self.state_pairs: list = []  # (input, output) names of state tensors; set by backends that support them
        self.state_shapes: dict = {}  # state input name → static shape
        self._open(num_threads)
        self.metadata = read_metadata(self.path) if metadata is None else metadata
        self.input_info, self.output_info = self._describe_io()
        shape = self.input_info.shape
        self.layout = self.metadata.get("layout") or infer_layout(shape)
        self.nchw_shape = (shape[0], shape[3], shape[1], shape[2]) if self.layout == "nhwc" else tuple(shape)
        self.input_hw = (int(self.nchw_shape[2]), int(self.nchw_shape[3]))
        self.reset_state()

    def _check(self, path: str | Path) -> Path:
        """The model file, validated before the runtime sees it."""
        return validate_model_file(path)

    def _open(self, num_threads: int) -> None:
        """Load ``self.path`` in the runtime (one-line EdgesalError if it cannot)."""
        raise NotImplementedError

    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        """The model's image input and (first) output, with static shapes."""
        raise NotImplementedError

    def invoke(self, prepared):
        """The runtime call alone: one prepared input → the raw output (a stateful model's state fed
        and carried: :meth:`invoke_state`)."""
        return self.invoke_state(prepared) if self.state_pairs else self._invoke_image(prepared)

    def _invoke_image(self, prepared):
        """The runtime call of a stateless model: the image input alone → the raw output."""
        raise NotImplementedError

    def invoke_named(self, feeds: dict, fetch: list) -> list:
        """Run with named inputs; the named outputs, raw (backends that support state tensors)."""
        raise EdgesalError(f"{self.runtime_name} sessions do not support models with state tensors")

    @property
    def stateful(self) -> bool:
        return bool(self.state_pairs)

    def reset_state(self) -> None:
        """Zero the state tensors (the start of a clip); nothing for stateless models."""
        self.state = {name: np.zeros(self.state_shapes[name], np.float32) for name, _ in self.state_pairs}

    def invoke_state(self, prepared) -> np.ndarray:
        """One frame of a stateful model: feed the carried state, keep the new one; the raw map output."""
        outputs = self.invoke_named({self.image_name: prepared, **self.state},
                                    [self.output_name] + [out for _, out in self.state_pairs])
        self.state = {name: np.asarray(value, np.float32) for (name, _), value in zip(self.state_pairs, outputs[1:])}
        return outputs[0]

    @staticmethod
    def read_metadata(path: Path) -> dict:
        """The edgesal metadata JSON embedded in ``path`` ({} if none)."""
        raise NotImplementedError

    @staticmethod
    def load_library() -> object:
        """Import the runtime library (what a model loads with), e.g. before measuring memory."""
        raise NotImplementedError

    @property
    def hw_hint(self) -> Sequence[int] | None:
        """``input_hw`` from the metadata, for models with symbolic spatial dimensions."""
        return self.metadata.get("input_hw")

    def prepare(self, x: np.ndarray):
        """NCHW float32 → the model's input layout, dtype and quantisation."""
        if self.layout == "nhwc":
            x = x.transpose(0, 2, 3, 1)
        info = self.input_info
        if info.quantized:
            lo, hi = np.iinfo(info.dtype).min, np.iinfo(info.dtype).max
            x = np.clip(np.round(x / info.scale) + info.zero_point, lo, hi)
        return np.ascontiguousarray(x.astype(info.dtype))

    def _to_nchw(self, y: np.ndarray) -> np.ndarray:
        """A raw output → float32, dequantised, NCHW."""
        info = self.output_info
        y = np.asarray(y).astype(np.float32)
        if info.quantized:
            y = (y - info.zero_point) * info.scale
        if self.layout == "nhwc" and y.ndim == 4:
            y = y.transpose(0, 3, 1, 2)
        return y

    def maps(self, x: np.ndarray) -> np.ndarray:
        """NCHW float32 input (batch of one) → (N, H, W) float32 output maps."""
        return as_maps(self._to_nchw(self.invoke(self.prepare(x))))

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(B, 3, H, W) float32 normalised → (B, 1, H, W) float32 (see module docstring); for a
        stateful model the batch is one clip: the state is reset, then carried frame to frame."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1] != 3 or tuple(batch.shape[2:]) != self.input_hw:
            raise EdgesalError(f"{self.path.name} expects a (B, 3, {self.input_hw[0]}, {self.input_hw[1]}) "
                               f"float32 batch, got {list(batch.shape)}")
        self.reset_state()
        return np.concatenate([self._as_batch_map(self._to_nchw(self.invoke(self.prepare(x[None]))))
                               for x in batch])

    def _as_batch_map(self, y: np.ndarray) -> np.ndarray:
        """One output → (1, 1, h, w): a flat output is at the input size; a map keeps its own
        size (smaller than the input for heads with an output stride)."""
        return y.reshape(1, 1, *self.input_hw) if y.ndim < 3 else as_maps(y)[:1, None]

    def describe(self) -> dict:
        """Runtime facts for reports."""
        facts = {"runtime": self.runtime_name, "path": str(self.path), "layout": self.layout,
                 "input_dtype": str(self.input_info.dtype), "input_hw": list(self.input_hw)}
        if self.state_pairs:
            facts["state"] = [{"input": i, "output": o, "shape": list(self.state_shapes[i])}
                              for i, o in self.state_pairs]
        return facts
