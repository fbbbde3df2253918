"""The runtime layer: inference runtimes (onnxruntime, LiteRT, OpenVINO) behind one interface.

    session = load_runtime("model.tflite", num_threads=1)
    out = session.run(batch)      # (B, 3, H, W) normalised float32 → (B, 1, H, W) float32
    session.metadata              # the edgesal metadata dict embedded in the artefact
    session.runtime_name          # "onnxruntime" | "litert" | "openvino"
    session.input_hw, session.layout

The same code runs in-process and on devices: every module here needs only numpy, the
standard library and (imported on use) the runtime's own wheel, keeps Python 3.8 syntax and
imports nothing from edgesal but its error type (when edgesal is there). ``edgesal bench``
ships this package to a device and runs :mod:`~edgesal.runtimes.runner` there.

- :mod:`~edgesal.runtimes.formats`: the table of export formats (one row per target);
- :mod:`~edgesal.runtimes.base`: the session contract; one module per runtime;
- :mod:`~edgesal.runtimes.files` / :mod:`~edgesal.runtimes.metadata`: file validation, metadata;
- :mod:`~edgesal.runtimes.timing`: the one (interleaved) latency timer;
- :mod:`~edgesal.runtimes.runner` / :mod:`~edgesal.runtimes.device_info`: the device side of bench.
"""

from __future__ import annotations

from pathlib import Path

from .base import RuntimeSession, TensorInfo
from .errors import EdgesalError
from .files import model_path
from .formats import BY_SUFFIX


def load_runtime(path: str | Path, num_threads: int = 1) -> RuntimeSession:
    """Open an exported artefact (file or OpenVINO folder) in its runtime, validated."""
    path = model_path(path)
    fmt = BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise EdgesalError(f"no runtime for {path.name!r}: expected one of {', '.join(BY_SUFFIX)}")
    return fmt.session_class()(path, num_threads=num_threads)


__all__ = ["RuntimeSession", "TensorInfo", "load_runtime"]
