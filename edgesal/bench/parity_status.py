"""The one place that says whether an exported artefact passed its parity gate.

``edgesal benchmark`` (its ✅ / ❎ column and its reuse of earlier artefacts) and
``edgesal bench --pick`` both ask :func:`export_parity`. The evidence, in order:

1. a ``.failed`` name (``x.onnx.failed``, ``x_openvino.failed/x.xml``): the gate failed it;
2. the sidecar ``F.json`` (written only for artefacts that passed): its ``parity.passed``;
3. the row of ``F`` in the folder's ``export_report.json``: its ``passed``;
4. none of these: unknown (a file from elsewhere), never recommended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgesal.export.report import FAILED_SUFFIX
from edgesal.export.report import JSON_NAME as REPORT_NAME


@dataclass(frozen=True)
class ParityStatus:
    """``passed``: True / False / None (unknown); ``detail``: the evidence, one line."""

    passed: bool | None
    detail: str
    parity: dict | None = None  # the gate's numbers when known (cc, kl, dauc, dnss, thresholds, failures)


def is_failed_name(path: Path) -> bool:
    """The artefact (or the folder holding it) carries the export's ``.failed`` mark."""
    return any(part.endswith(FAILED_SUFFIX) for part in (path.name, path.parent.name))


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _summary(parity: dict) -> str:
    failures = parity.get("failures") or []
    if failures:
        return "; ".join(str(f) for f in failures)
    cc = parity.get("cc")
    return f"CC {cc:.4f}" if isinstance(cc, (int, float)) else "passed"


def _report_row(path: Path) -> dict | None:
    """The artefact's row in the ``export_report.json`` of its export folder (None if absent). A row
    names the loadable file (or a failed OpenVINO export's ``.failed`` folder) as the export saw it,
    so it is matched by its path inside the folder: the folder may have moved since."""
    for folder in (path.parent, path.parent.parent):
        report = _read_json(folder / REPORT_NAME)
        rows = report.get("artefacts") if report else None
        inside = path.resolve().relative_to(folder.resolve()).parts
        wanted = {inside, inside[:-1]} if is_failed_name(path.parent) else {inside}
        for row in rows if isinstance(rows, list) else []:
            parts = Path(str(row.get("file", ""))).parts if isinstance(row, dict) else ()
            if any(len(parts) >= len(w) and parts[len(parts) - len(w):] == w for w in wanted if w):
                return row
    return None


def export_parity(path: str | Path) -> ParityStatus:
    """Whether the export gate passed the artefact whose loadable file is ``path``."""
    from edgesal.export.metadata import sidecar_path

    path = Path(path)
    if is_failed_name(path):
        row = _report_row(path) or {}
        parity = row.get("parity") if isinstance(row.get("parity"), dict) else None
        why = f": {_summary(parity)}" if parity else ""
        return ParityStatus(False, f"export parity gate failed{why} (written as .failed)", parity)
    sidecar = _read_json(sidecar_path(path))
    parity = sidecar.get("parity") if sidecar else None
    if isinstance(parity, dict) and "passed" in parity:
        verdict = "passed" if parity["passed"] else "failed"
        return ParityStatus(bool(parity["passed"]), f"export gate {verdict} ({_summary(parity)}; sidecar)", parity)
    row = _report_row(path)
    if row is not None and "passed" in row:
        parity = row.get("parity") if isinstance(row.get("parity"), dict) else {**row, "failures": row.get("failures")}
        verdict = "passed" if row["passed"] else "failed"
        return ParityStatus(bool(row["passed"]), f"export gate {verdict} ({_summary(parity)}; {REPORT_NAME})", parity)
    return ParityStatus(None, "parity unknown (no sidecar .json and no export_report.json row)")
