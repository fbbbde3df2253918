"""``edgesal.export(model, targets, precisions, ...)``: the Python API's export (docs/api.md).

The :mod:`edgesal.export` package is callable and forwards here; this builds the
:class:`~edgesal.export.pipeline.ExportRequest` that ``edgesal export`` builds and hides
third-party noise the same way (:mod:`edgesal.quiet`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from edgesal.quiet import hushed

if TYPE_CHECKING:
    from edgesal.export.pipeline import ArtefactResult


def export(model: str = "default", targets: str | Sequence[str] = "onnx", precisions: str | Sequence[str] = "fp32",
           out: str = "runs/export", verbose: bool = False, **request) -> list[ArtefactResult]:
    """Export ``model`` to each target × precision with the parity gate, like ``edgesal export``.

    ``request``: any other :class:`~edgesal.export.ExportRequest` field (``calib``, ``imgsz``,
    ``parity_data``, ``parity_images``, ``options``, ``thresholds``, ``progress``, …). Returns one
    :class:`~edgesal.export.ArtefactResult` per artefact (``.path``, ``.passed``, ``.parity``);
    third-party logs are hidden unless ``verbose``.
    """
    with hushed(not verbose):
        from edgesal.export.pipeline import ExportRequest, export_model

        return export_model(ExportRequest(model=model, targets=_names(targets), precisions=_names(precisions),
                                          out=str(out), **request))


def _names(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
