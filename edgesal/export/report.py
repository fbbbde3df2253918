"""``export_report.json`` / ``export_report.md`` and the console table of an export run.

The reports describe every artefact in the output folder, not only this run's: rows of an
earlier report there are kept (merged by file, this run's row winning) unless their file is gone.
"""

from __future__ import annotations

import json
from pathlib import Path

from edgesal import __version__
from edgesal.atomic import write_json, write_text

COLUMNS = ["file", "target", "precision", "size MB", "CC", "KL", "ΔAUC-J", "ΔNSS", "ms (1 thread)", "parity"]
JSON_NAME, MD_NAME = "export_report.json", "export_report.md"
FAILED_SUFFIX = ".failed"  # an artefact that failed its parity gate is written as <name>.failed


def _fmt(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _shown(file: str, out_dir: Path) -> str:
    """``file`` relative to ``out_dir`` (the row's identity in the merged report)."""
    path = Path(file)
    for base, target in ((out_dir, path), (out_dir.resolve(), path.resolve())):
        try:
            return target.relative_to(base).as_posix()
        except ValueError:
            continue
    return str(path)


def _cells(row: dict, out_dir: Path) -> list[str]:
    """One report row (a ``ArtefactResult.row()`` dict) as strings."""
    size = row.get("size_mb")
    return [_shown(row["file"], out_dir), str(row.get("target")), str(row.get("precision")),
            "—" if size is None else f"{size:.3f}", _fmt(row.get("cc")), _fmt(row.get("kl")), _fmt(row.get("dauc")),
            _fmt(row.get("dnss")), _fmt(row.get("latency_ms_1thread"), 2),
            "pass" if row.get("passed") else "FAIL: " + "; ".join(row.get("failures") or [])]


def table_rows(results, out_dir: Path) -> list[list[str]]:
    """One row of strings per artefact (shared by the console table and the Markdown)."""
    return [_cells(r.row(), out_dir) for r in results]


def _earlier_rows(out_dir: Path) -> list[dict]:
    """Artefact rows of the report already in ``out_dir`` whose file still exists ([] if none/unreadable)."""
    try:
        rows = json.loads((out_dir / JSON_NAME).read_text()).get("artefacts")
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(rows, list):
        return []
    return [r for r in rows if isinstance(r, dict) and isinstance(r.get("file"), str)
            and (out_dir / _shown(r["file"], out_dir)).exists()]


def merge_rows(earlier: list[dict], new: list[dict], out_dir: Path) -> list[dict]:
    """Rows by file in first-seen order; a row of ``new`` replaces an earlier row of the same file."""
    merged = {_shown(r["file"], out_dir): r for r in earlier}
    merged.update({_shown(r["file"], out_dir): r for r in new})
    return list(merged.values())


def write_reports(out_dir: Path, request, source: dict, results) -> tuple[Path, Path]:
    """Write both reports into ``out_dir`` (earlier artefacts of the folder included)."""
    head = {"edgesal_version": __version__, "model": request.model, "source_checkpoint": source.get("path"),
            "source_sha256": source.get("sha256"),
            "parity_images": results[0].parity.source if results else None}
    new = [{**r.row(), "model": request.model, "source_sha256": source.get("sha256"),
            "parity": r.parity.to_dict(), "debug_parity": r.debug} for r in results]
    rows = merge_rows(_earlier_rows(out_dir), new, out_dir)
    json_path = write_json(out_dir / JSON_NAME, {**head, "artefacts": rows})
    models = ", ".join(dict.fromkeys(str(r.get("model", request.model)) for r in rows))
    lines = [f"# Export report: {models}", "",
             f"Latest run: edgesal {__version__}; model {request.model}; source sha256 `{source.get('sha256')}`; "
             f"parity on {head['parity_images']}.",
             "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cells(row, out_dir)) + " |" for row in rows]
    md_path = write_text(out_dir / MD_NAME, "\n".join(lines) + "\n")
    return json_path, md_path
