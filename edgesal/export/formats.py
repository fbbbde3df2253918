"""The one table of export targets (like Ultralytics' ``export_formats()``).

Each row names a target, its file suffix, the precisions it supports, the pip extra its
converter needs, the runtime that runs it and its options. The CLI choices, the docs
table and the parametrised tests are all generated from :data:`EXPORT_FORMATS`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from edgesal.errors import EdgesalError

PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class ExportOption:
    """A target-specific option (``--opt name=value``)."""

    name: str
    choices: tuple[str, ...]
    default: str
    help: str


@dataclass(frozen=True)
class ExportFormat:
    name: str  # --target value
    description: str
    suffix: str  # of the file a runtime loads
    folder: bool  # artefact is a folder holding the file (OpenVINO .xml + .bin)
    precisions: tuple[str, ...]
    extra: str  # pip install 'edgesal[extra]'
    converter: str  # "module:function" in edgesal.export
    runtime: str
    options: tuple[ExportOption, ...] = field(default_factory=tuple)

    def artefact_name(self, stem: str) -> str:
        """Relative path of the loadable file for an artefact called ``stem``."""
        return f"{stem}_openvino/{stem}{self.suffix}" if self.folder else f"{stem}{self.suffix}"


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "onnx", "ONNX (opset 18), int8 as QDQ per-channel U8S8", ".onnx", False, ("fp32", "fp16", "int8"),
            "onnx", "onnx_export:export_onnx", "onnxruntime",
        ),
        ExportFormat(
            "tflite", "TFLite via litert-torch; int8 = full-integer trunk, float head", ".tflite", False,
            ("fp32", "int8"), "tflite", "tflite_export:export_tflite", "litert",
            (
                ExportOption("layout", ("nchw", "nhwc"), "nhwc", "input/output tensor layout"),
                ExportOption("io", ("auto", "int8", "float"), "auto",
                             "input tensor type; auto = int8 for int8 models, else float "
                             "(the output is always float32: the head stays float)"),
            ),
        ),
        ExportFormat(
            "openvino", "OpenVINO IR (.xml + .bin); int8 via NNCF", ".xml", True, ("fp32", "fp16", "int8"),
            "openvino", "openvino_export:export_openvino", "openvino",
        ),
    )
}


def _closest(value: str, choices) -> str:
    hint = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.4)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def get_format(name: str) -> ExportFormat:
    """The row for ``name`` (one-line error with a suggestion otherwise)."""
    key = name.strip().lower()
    if key not in EXPORT_FORMATS:
        raise EdgesalError(f"unknown export target {name!r}{_closest(key, EXPORT_FORMATS)} "
                           f"(targets: {', '.join(EXPORT_FORMATS)})")
    return EXPORT_FORMATS[key]


def check_precision(fmt: ExportFormat, precision: str) -> str:
    """``precision`` if ``fmt`` supports it, else a one-line error."""
    if precision not in fmt.precisions:
        known = PRECISIONS if precision not in PRECISIONS else fmt.precisions
        hint = _closest(precision, known) if precision not in PRECISIONS else ""
        raise EdgesalError(f"{fmt.name} does not support precision {precision!r}{hint} "
                           f"(supported: {', '.join(fmt.precisions)})")
    return precision


def parse_options(fmt: ExportFormat, pairs: list[str] | dict[str, str] | None) -> dict[str, str]:
    """``["layout=nhwc", …]`` (or a dict) → every option of ``fmt`` with defaults filled in."""
    given = dict(pairs) if isinstance(pairs, dict) else {}
    for pair in pairs if isinstance(pairs, list) else []:
        if "=" not in pair:
            raise EdgesalError(f"option {pair!r} is not NAME=VALUE")
        key, value = pair.split("=", 1)
        given[key.strip().lower()] = value.strip().lower()
    known = {o.name: o for o in fmt.options}
    out = {o.name: o.default for o in fmt.options}
    for key, value in given.items():
        if key not in known:
            names = ", ".join(known) or "none"
            raise EdgesalError(f"unknown option {key!r} for {fmt.name}{_closest(key, known)} (options: {names})")
        if value not in known[key].choices:
            raise EdgesalError(f"{fmt.name} option {key}={value!r} is not one of {', '.join(known[key].choices)}"
                               f"{_closest(value, known[key].choices)}")
        out[key] = value
    return out


def formats_markdown() -> str:
    """The target table as Markdown (docs/export.md embeds it)."""
    rows = ["| target | artefact | precisions | extra | runtime | options |", "|---|---|---|---|---|---|"]
    for f in EXPORT_FORMATS.values():
        opts = "; ".join(f"`{o.name}`={'/'.join(o.choices)} (default {o.default})" for o in f.options) or "—"
        rows.append(f"| `{f.name}` | `{f.artefact_name('NAME')}` | {', '.join(f.precisions)} | "
                    f"`edgesal[{f.extra}]` | {f.runtime} | {opts} |")
    return "\n".join(rows)
