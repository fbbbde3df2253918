"""What each model file format starts with: one table used by the runtimes' validators and
by the bench harness, so no file is handed to a runtime on its suffix alone."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from edgesal.errors import EdgesalError

HEADER_BYTES = 512

#: suffix → check of the file's first ``HEADER_BYTES`` bytes
SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    ".tflite": lambda head: head[4:8] == b"TFL3",  # FlatBuffer file identifier
    ".onnx": lambda head: head[:1] == b"\x08",  # ModelProto field 1 (ir_version), varint
    ".xml": lambda head: b"<net" in head,  # OpenVINO IR
    ".pt": lambda head: head[:2] == b"PK",  # torch.save zip archive
}


def read_header(path: str | Path) -> bytes:
    """The first bytes of a model file; one-line error if it does not exist."""
    path = Path(path)
    if not path.is_file():
        raise EdgesalError(f"model file not found: {path}")
    with path.open("rb") as f:
        return f.read(HEADER_BYTES)
