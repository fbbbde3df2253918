"""One interface over the inference runtimes: ``load_runtime(path) -> RuntimeSession``.

``session.run(batch)`` takes what the torch model takes — a float32 NCHW batch
(B, 3, H, W), already normalised ``(x − mean) / std`` — and returns what the torch model
returns: float32 (B, 1, H, W) in the model's output semantics (``metadata["output_kind"]``:
natural-log density, or sigmoid logits). Layout (NHWC) and int8 input/output quantisation
are handled inside, from the model's own tensor descriptions. Backends implement only
``_describe_io`` and ``_invoke``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError


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


def infer_layout(shape: tuple[int, ...]) -> str:
    """``nchw`` for (1, 3, H, W), ``nhwc`` for (1, H, W, 3) image inputs."""
    if len(shape) == 4 and shape[1] == 3 and shape[3] != 3:
        return "nchw"
    if len(shape) == 4 and shape[3] == 3:
        return "nhwc"
    raise EdgesalError(f"unexpected model input shape {list(shape)}: expected 1×3×H×W or 1×H×W×3")


class RuntimeSession(ABC):
    """A loaded artefact; see the module docstring for the ``run`` contract."""

    runtime_name: str = "runtime"

    def __init__(self, path: Path, metadata: dict):
        self.path = path
        self.metadata = metadata
        self.input_info, self.output_info = self._describe_io()
        self.layout = metadata.get("layout") or infer_layout(self.input_info.shape)
        h, w = (self.input_info.shape[2:4] if self.layout == "nchw" else self.input_info.shape[1:3])
        self.input_hw = (int(h), int(w))

    @abstractmethod
    def _describe_io(self) -> tuple[TensorInfo, TensorInfo]:
        """The model's (single) input and output tensors."""

    @abstractmethod
    def _invoke(self, x: np.ndarray) -> np.ndarray:
        """Run one sample already in the model's input layout and dtype."""

    def _encode(self, x: np.ndarray) -> np.ndarray:
        if self.layout == "nhwc":
            x = x.transpose(0, 2, 3, 1)
        info = self.input_info
        if info.quantized:
            lo, hi = np.iinfo(info.dtype).min, np.iinfo(info.dtype).max
            x = np.clip(np.round(x / info.scale) + info.zero_point, lo, hi)
        return np.ascontiguousarray(x.astype(info.dtype))

    def _decode(self, y: np.ndarray) -> np.ndarray:
        info = self.output_info
        y = y.astype(np.float32)
        if info.quantized:
            y = (y - info.zero_point) * info.scale
        if self.layout == "nhwc" and y.ndim == 4:
            y = y.transpose(0, 3, 1, 2)
        return y.reshape(1, 1, *self.input_hw)

    def run(self, batch: np.ndarray) -> np.ndarray:
        """(B, 3, H, W) float32 normalised → (B, 1, H, W) float32 (see module docstring)."""
        batch = np.asarray(batch, dtype=np.float32)
        if batch.ndim != 4 or batch.shape[1] != 3 or tuple(batch.shape[2:]) != self.input_hw:
            raise EdgesalError(f"{self.path.name} expects a (B, 3, {self.input_hw[0]}, {self.input_hw[1]}) "
                               f"float32 batch, got {list(batch.shape)}")
        return np.concatenate([self._decode(self._invoke(self._encode(x[None]))) for x in batch])

    def describe(self) -> dict:
        """Runtime facts for reports."""
        return {"runtime": self.runtime_name, "path": str(self.path), "layout": self.layout,
                "input_dtype": str(self.input_info.dtype), "input_hw": list(self.input_hw)}
