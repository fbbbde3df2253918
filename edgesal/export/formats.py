"""Export-side use of the one format table (:mod:`edgesal.runtimes.formats`).

The table lives with the runtimes, where the exporter, the runtimes, ``edgesal bench`` and
the predictors all read it (and a device gets it with the runtime layer). Here: precision and
option checks for ``edgesal export``, the converter/metadata-writer functions of a row, and
the docs table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from edgesal.errors import EdgesalError
from edgesal.runtimes.formats import EXPORT_FORMATS, PRECISIONS, ExportFormat, ExportOption, closest, get_format


def export_function(spec: str) -> Callable:
    """A row's ``"module:function"`` in :mod:`edgesal.export` (imported now: converters are heavy)."""
    module, func = spec.split(":")
    return getattr(importlib.import_module(f"edgesal.export.{module}"), func)


def check_precision(fmt: ExportFormat, precision: str) -> str:
    """``precision`` if ``fmt`` supports it, else a one-line error."""
    if precision not in fmt.precisions:
        known = PRECISIONS if precision not in PRECISIONS else fmt.precisions
        hint = closest(precision, known) if precision not in PRECISIONS else ""
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
            raise EdgesalError(f"unknown option {key!r} for {fmt.name}{closest(key, known)} (options: {names})")
        if value not in known[key].choices:
            raise EdgesalError(f"{fmt.name} option {key}={value!r} is not one of {', '.join(known[key].choices)}"
                               f"{closest(value, known[key].choices)}")
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


__all__ = ["EXPORT_FORMATS", "PRECISIONS", "ExportFormat", "ExportOption", "check_precision", "export_function",
           "formats_markdown", "get_format", "parse_options"]
