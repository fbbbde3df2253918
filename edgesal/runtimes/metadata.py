"""The edgesal metadata dict inside artefacts: one JSON document per file, key ``edgesal``.

- ONNX: ``ModelProto.metadata_props`` entry ``edgesal``.
- TFLite: a flatbuffer ``Model.metadata`` entry named ``edgesal`` whose buffer holds the
  UTF-8 JSON (readable from Kotlin/Java with the FlatBuffers TFLite schema classes).
- OpenVINO: ``rt_info`` entry ``edgesal`` in the ``.xml``.

Readers return ``{}`` when a file has no edgesal metadata (e.g. a third-party model).
Writers rewrite the file atomically.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Callable

from edgesal.atomic import atomic_path
from edgesal.errors import EdgesalError
from edgesal.export.formats import PRECISIONS
from edgesal.optional import import_optional

KEY = "edgesal"
OUTPUT_KINDS = ("log_density", "sigmoid")  # the keys of edgesal.export.metadata.OUTPUT_SEMANTICS


def _read_onnx(path: Path) -> dict:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    props = {p.key: p.value for p in model.metadata_props}
    return json.loads(props[KEY]) if KEY in props else {}


def _write_onnx(path: Path, meta: dict) -> None:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    kept = [p for p in model.metadata_props if p.key != KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=KEY, value=json.dumps(meta))
    with atomic_path(path) as tmp:
        onnx.save(model, str(tmp))


def _read_tflite(path: Path) -> dict:
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


def _write_tflite(path: Path, meta: dict) -> None:
    import numpy as np
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(path.read_bytes()))
    model.metadata = [m for m in (model.metadata or []) if (m.name or b"").decode() != KEY]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = KEY
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    with atomic_path(path) as tmp:
        tmp.write_bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _read_openvino(path: Path) -> dict:
    ov = import_optional("openvino", "openvino", "OpenVINO")
    model = ov.Core().read_model(str(path))
    if not model.has_rt_info([KEY]):
        return {}
    return json.loads(model.get_rt_info([KEY]).astype(str))


def _write_openvino(path: Path, meta: dict) -> None:
    ov = import_optional("openvino", "openvino", "OpenVINO")
    model = ov.Core().read_model(str(path))
    model.set_rt_info(json.dumps(meta), [KEY])
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".meta-") as tmp:
        staged = Path(tmp) / "model.xml"
        ov.save_model(model, str(staged), compress_to_fp16=False)  # weights keep their stored type
        staged.with_suffix(".bin").replace(path.with_suffix(".bin"))
        staged.replace(path)


_IO: dict[str, tuple[Callable[[Path], dict], Callable[[Path, dict], None]]] = {
    ".onnx": (_read_onnx, _write_onnx),
    ".tflite": (_read_tflite, _write_tflite),
    ".xml": (_read_openvino, _write_openvino),
}


def _io(path: Path):
    if path.suffix.lower() not in _IO:
        raise EdgesalError(f"no metadata reader for {path.suffix!r} files (known: {', '.join(_IO)})")
    return _IO[path.suffix.lower()]


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
    try:
        meta = _io(path)[0](path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EdgesalError(f"{path}: unreadable edgesal metadata ({exc})") from None
    return check_metadata(meta, path)


def write_metadata(path: str | Path, meta: dict) -> None:
    """Embed ``meta`` (JSON-serialisable) into the artefact, replacing earlier edgesal metadata."""
    path = Path(path)
    _io(path)[1](path, meta)
