"""The one table of export formats (like Ultralytics' ``export_formats()``).

One :class:`ExportFormat` row per target says everything the code needs about it: its file
suffix and header, the files that travel with it, the precisions and options of its
converter, the pip extra, how metadata is written (``edgesal.export``) and read, and the
runtime session that runs it (in this package, so devices run the same code). Everything
else derives from :data:`EXPORT_FORMATS`: CLI choices, the docs table, file validation,
the runtimes of ``edgesal bench``, the predictors' file loaders and the parametrised tests.

Adding a target = a row here + its converter module in ``edgesal/export`` (``export_*`` and
``write_metadata``) + its session module in ``edgesal/runtimes`` (session class with a
``read_metadata`` static method).

This module is part of the device-side runtime layer: standard library only, Python 3.8.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EdgesalError

PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class ExportOption:
    """A target-specific option (``--opt name=value``)."""

    name: str
    choices: tuple[str, ...]
    default: str
    help: str
    in_name: bool = False  # a non-default value is part of the artefact name (``_NAME-VALUE``)


@dataclass(frozen=True)
class Companion:
    """A file that travels with a model file: ``pattern`` formats ``{stem}`` / ``{name}`` of it."""

    pattern: str
    required: bool  # the model cannot load without it (else: copied when present)

    def path(self, model: Path) -> Path:
        return model.with_name(self.pattern.format(stem=model.stem, name=model.name))


@dataclass(frozen=True)
class ExportFormat:
    name: str  # --target value
    description: str
    suffix: str  # of the file a runtime loads
    folder: bool  # artefact is a folder holding the file (OpenVINO .xml + .bin)
    precisions: tuple[str, ...]
    extra: str  # pip install 'edgesal[extra]'
    converter: str  # "module:function" in edgesal.export (the converter module)
    metadata_writer: str  # "module:function" in edgesal.export: (path, meta) → None, atomic
    runtime: str  # the runtime's name in reports and ``--runtime``
    session: str  # "module:Class" in this package; the class has ``read_metadata(path)``
    header: Callable[[bytes], bool]  # the file's first HEADER_BYTES bytes look right
    header_expected: str  # what a file failing ``header`` lacks
    companions: tuple[Companion, ...] = ()
    also_opens: tuple[str, ...] = ()  # other suffixes this runtime loads (OpenVINO reads ONNX)
    options: tuple[ExportOption, ...] = field(default_factory=tuple)

    def artefact_name(self, stem: str, options: dict | None = None) -> str:
        """Relative path of the loadable file for an artefact called ``stem`` built with ``options``
        (each ``in_name`` option not at its default adds ``_NAME-VALUE``, e.g. ``x_int8_io-int8``)."""
        given = options or {}
        stem += "".join(f"_{o.name}-{given[o.name]}" for o in self.options
                        if o.in_name and given.get(o.name, o.default) != o.default)
        return f"{stem}_openvino/{stem}{self.suffix}" if self.folder else f"{stem}{self.suffix}"

    def session_class(self) -> type:
        """The runtime session class (its module is imported now: runtimes are optional)."""
        return session_class(self.session)


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "onnx", "ONNX (opset 18), int8 as QDQ per-channel U8S8", ".onnx", False, ("fp32", "fp16", "int8"),
            "onnx", "onnx_export:export_onnx", "onnx_export:write_metadata",
            "onnxruntime", "onnxruntime:OnnxRuntimeSession",
            lambda head: head[:1] == b"\x08", "not an ONNX protobuf: no ir_version field first",
            companions=(Companion("{name}.data", required=False),),  # external data, when the model has it
        ),
        ExportFormat(
            "tflite", "TFLite via litert-torch; int8 = full-integer trunk, float head", ".tflite", False,
            ("fp32", "int8"), "tflite", "tflite_export:export_tflite", "tflite_export:write_metadata",
            "litert", "litert:LiteRTSession",
            lambda head: head[4:8] == b"TFL3", "not a TFLite FlatBuffer: no TFL3 identifier",
            options=(
                ExportOption("layout", ("nchw", "nhwc"), "nhwc", "input/output tensor layout", in_name=True),
                ExportOption("io", ("float", "int8"), "float",
                             "input tensor: float = float32 RGB in [0, 1] named 'pixels', normalised in the "
                             "graph (MediaPipe / Task Library load it); int8 = the normalised image quantised "
                             "(int8 models only). The output is always float32: the head stays float",
                             in_name=True),
            ),
        ),
        ExportFormat(
            "openvino", "OpenVINO IR (.xml + .bin); int8 via NNCF", ".xml", True, ("fp32", "fp16", "int8"),
            "openvino", "openvino_export:export_openvino", "openvino_export:write_metadata",
            "openvino", "openvino:OpenVINOSession",
            lambda head: head.lstrip().startswith(b"<?xml") and b"<net" in head,
            "not an OpenVINO IR: no <?xml …?> declaration followed by <net>",
            companions=(Companion("{stem}.bin", required=True),), also_opens=(".onnx",),
        ),
    )
}


def closest(value: str, choices) -> str:
    """``"; did you mean 'x'?"`` for the choice closest to ``value`` ('' if none is close)."""
    hint = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.4)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def get_format(name: str) -> ExportFormat:
    """The row for ``name`` (one-line error with a suggestion otherwise)."""
    key = name.strip().lower()
    if key not in EXPORT_FORMATS:
        raise EdgesalError(f"unknown export target {name!r}{closest(key, EXPORT_FORMATS)} "
                           f"(targets: {', '.join(EXPORT_FORMATS)})")
    return EXPORT_FORMATS[key]


#: suffix → the row whose files end in it
BY_SUFFIX: dict[str, ExportFormat] = {f.suffix: f for f in EXPORT_FORMATS.values()}


def runtime_suffixes() -> dict[str, tuple[str, ...]]:
    """Runtime name → the suffixes it opens (its own format's, then ``also_opens``)."""
    return {f.runtime: (f.suffix, *f.also_opens) for f in EXPORT_FORMATS.values()}


def runtime_session(runtime: str) -> str:
    """The ``session`` spec of the format run by ``runtime``."""
    return next(f.session for f in EXPORT_FORMATS.values() if f.runtime == runtime)


def session_class(spec: str) -> type:
    """``"module:Class"``: a module of this package, or a dotted absolute module (``a.b:C``)."""
    module, cls = spec.split(":")
    name = module if "." in module else f"{__package__}.{module}"
    return getattr(importlib.import_module(name), cls)
