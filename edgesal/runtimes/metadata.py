"""The edgesal metadata dict inside artefacts: one JSON document per file, key ``edgesal``.

Where each format keeps it is the business of its session class (``read_metadata``, in this
package) and of its converter module (``write_metadata``, in ``edgesal.export``):

- ONNX: ``ModelProto.metadata_props`` entry ``edgesal``.
- TFLite: a flatbuffer ``Model.metadata`` entry named ``edgesal`` whose buffer holds the
  UTF-8 JSON (readable from Kotlin/Java with the FlatBuffers TFLite schema classes).
- OpenVINO: ``rt_info`` entry ``edgesal`` in the ``.xml``.

Readers return ``{}`` when a file has no edgesal metadata (e.g. a third-party model).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from .errors import EdgesalError
from .formats import BY_SUFFIX, PRECISIONS

KEY = "edgesal"
OUTPUT_KINDS = ("log_density", "sigmoid")  # the keys of edgesal.export.metadata.OUTPUT_SEMANTICS


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


#: key → (check of its value when present, what it must be); what runtimes and harnesses read
_FIELDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "input_hw": (lambda v: isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and x > 0 for x in v),
                 "[height, width] of positive integers"),
    "mean": (lambda v: isinstance(v, list) and len(v) == 3 and all(_is_number(x) for x in v), "3 numbers"),
    "std": (lambda v: isinstance(v, list) and len(v) == 3 and all(_is_number(x) and x > 0 for x in v),
            "3 positive numbers"),
    "output_kind": (lambda v: v in OUTPUT_KINDS, " or ".join(OUTPUT_KINDS)),
    "layout": (lambda v: v in (None, "nchw", "nhwc"), "nchw or nhwc"),
    "precision": (lambda v: v in PRECISIONS, ", ".join(PRECISIONS)),
}


def check_metadata(meta: object, where: str | Path) -> dict:
    """``meta`` if it is an object whose known keys have usable values; else a one-line error."""
    if not isinstance(meta, dict):
        raise EdgesalError(f"{where}: edgesal metadata must be a JSON object, got {type(meta).__name__}")
    for key, (ok, expected) in _FIELDS.items():
        if key in meta and not ok(meta[key]):
            raise EdgesalError(f"{where}: metadata {key}={json.dumps(meta[key])[:60]} is not {expected}")
    return meta


def read_metadata(path: str | Path) -> dict:
    """The edgesal metadata embedded in an artefact ({} if it has none), checked."""
    path = Path(path)
    fmt = BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise EdgesalError(f"no metadata reader for {path.suffix!r} files (known: {', '.join(BY_SUFFIX)})")
    try:
        meta = fmt.session_class().read_metadata(path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EdgesalError(f"{path}: unreadable edgesal metadata ({exc})") from None
    return check_metadata(meta, path)
