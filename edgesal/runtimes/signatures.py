"""The one validator of model files: what each format starts with (and needs beside it).

:func:`validate_model_file` runs before any runtime or harness opens a file (``predict``,
``evaluate``, ``info`` through :mod:`edgesal.runtimes`, ``bench`` through
:mod:`edgesal.bench.artefact`), so no file is handed to a runtime on its suffix alone and
every command words the same problem the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

from edgesal.errors import EdgesalError

HEADER_BYTES = 512


class Signature(NamedTuple):
    """How a format's first ``HEADER_BYTES`` bytes look, and what a mismatch means."""

    check: Callable[[bytes], bool]
    expected: str


#: suffix → signature of the file's first ``HEADER_BYTES`` bytes
SIGNATURES: dict[str, Signature] = {
    ".tflite": Signature(lambda head: head[4:8] == b"TFL3", "not a TFLite FlatBuffer: no TFL3 identifier"),
    ".onnx": Signature(lambda head: head[:1] == b"\x08", "not an ONNX protobuf: no ir_version field first"),
    ".xml": Signature(lambda head: head.lstrip().startswith(b"<?xml") and b"<net" in head,
                      "not an OpenVINO IR: no <?xml …?> declaration followed by <net>"),
    ".pt": Signature(lambda head: head[:2] == b"PK", "not a torch.save zip archive"),
}
#: suffix → the file a model of that kind cannot load without
REQUIRED_COMPANION: dict[str, Callable[[Path], Path]] = {
    ".xml": lambda p: p.with_suffix(".bin"),  # OpenVINO weights
}


def read_header(path: str | Path) -> bytes:
    """The first bytes of a model file; one-line error if it does not exist."""
    path = Path(path)
    if not path.is_file():
        raise EdgesalError(f"model file not found: {path}")
    with path.open("rb") as f:
        return f.read(HEADER_BYTES)


def validate_model_file(path: str | Path) -> Path:
    """``path`` if it exists, has a known suffix, the header of its format and its required
    companion file; else a one-line EdgesalError naming the problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SIGNATURES:
        raise EdgesalError(f"{path}: not a model file (known suffixes: {', '.join(sorted(SIGNATURES))})")
    signature = SIGNATURES[suffix]
    if not signature.check(read_header(path)):
        raise EdgesalError(f"{path}: not a valid {suffix} model ({signature.expected})")
    companion = REQUIRED_COMPANION[suffix](path) if suffix in REQUIRED_COMPANION else None
    if companion is not None and not companion.is_file():
        raise EdgesalError(f"{path}: its weights file {companion.name} is missing")
    return path
