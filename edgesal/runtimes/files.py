"""The one validator of model files: what each format starts with and needs beside it.

:func:`validate_model_file` runs before any runtime or harness opens a file (``predict``,
``evaluate``, ``info`` through :func:`~edgesal.runtimes.load_runtime`, ``bench`` through
:mod:`edgesal.bench.artefact`), so no file is handed to a runtime on its suffix alone and
every command words the same problem the same way. Headers and companion files come from
the format table; a torch checkpoint (``.pt``, for ``bench``'s torch runtime) is the one
model file that is not an export format.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import EdgesalError
from .formats import BY_SUFFIX

HEADER_BYTES = 512

#: suffix → (check of the file's first HEADER_BYTES bytes, what a failing file lacks)
SIGNATURES: dict[str, tuple[Callable[[bytes], bool], str]] = {
    **{suffix: (f.header, f.header_expected) for suffix, f in BY_SUFFIX.items()},
    ".pt": (lambda head: head[:2] == b"PK", "not a torch.save zip archive"),
}


def read_header(path: str | Path) -> bytes:
    """The first bytes of a model file; one-line error if it does not exist."""
    path = Path(path)
    if not path.is_file():
        raise EdgesalError(f"model file not found: {path}")
    with path.open("rb") as f:
        return f.read(HEADER_BYTES)


def companion_files(path: Path) -> list[Path]:
    """The files that travel with model file ``path``: required ones, and optional ones present."""
    fmt = BY_SUFFIX.get(path.suffix.lower())
    companions = [c.path(path) for c in (fmt.companions if fmt else ()) if c.required or c.path(path).exists()]
    return companions


def validate_model_file(path: str | Path) -> Path:
    """``path`` if it exists, has a known suffix, the header of its format and its required
    companion file; else a one-line EdgesalError naming the problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SIGNATURES:
        raise EdgesalError(f"{path}: not a model file (known suffixes: {', '.join(sorted(SIGNATURES))})")
    check, expected = SIGNATURES[suffix]
    if not check(read_header(path)):
        raise EdgesalError(f"{path}: not a valid {suffix} model ({expected})")
    fmt = BY_SUFFIX.get(suffix)
    for companion in (c.path(path) for c in (fmt.companions if fmt else ()) if c.required):
        if not companion.is_file():
            raise EdgesalError(f"{path}: its weights file {companion.name} is missing")
    return path


def model_path(path: str | Path) -> Path:
    """An artefact folder (OpenVINO) → the one loadable file inside; a file path as is."""
    path = Path(path)
    if not path.is_dir():
        return path
    found = sorted(p for f in BY_SUFFIX.values() if f.folder for p in path.glob(f"*{f.suffix}"))
    if len(found) != 1:
        raise EdgesalError(f"{path}: expected one .xml in the folder, found {len(found)}")
    return found[0]
