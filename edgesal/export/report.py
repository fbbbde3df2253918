"""``export_report.json`` / ``export_report.md`` and the console table of an export run."""

from __future__ import annotations

from pathlib import Path

from edgesal import __version__
from edgesal.atomic import write_json, write_text

COLUMNS = ["file", "target", "precision", "size MB", "CC", "KL", "ΔAUC-J", "ΔNSS", "ms (1 thread)", "parity"]


def _fmt(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def table_rows(results, out_dir: Path) -> list[list[str]]:
    """One row of strings per artefact (shared by the console table and the Markdown)."""
    rows = []
    for r in results:
        p = r.parity
        try:
            shown = str(r.path.relative_to(out_dir))
        except ValueError:
            shown = str(r.path)
        rows.append([shown, r.target, r.precision, f"{r.size_bytes / 2**20:.3f}", _fmt(p.cc), _fmt(p.kl),
                     _fmt(p.dauc), _fmt(p.dnss), _fmt(r.latency_ms, 2),
                     "pass" if r.passed else "FAIL: " + "; ".join(p.failures)])
    return rows


def write_reports(out_dir: Path, request, source: dict, results) -> tuple[Path, Path]:
    """Write both reports into ``out_dir``."""
    head = {"edgesal_version": __version__, "model": request.model, "source_checkpoint": source.get("path"),
            "source_sha256": source.get("sha256"),
            "parity_images": results[0].parity.source if results else None}
    payload = {**head, "artefacts": [{**r.row(), "parity": r.parity.to_dict(), "debug_parity": r.debug}
                                     for r in results]}
    json_path = write_json(out_dir / "export_report.json", payload)
    lines = [f"# Export report: {request.model}", "",
             f"edgesal {__version__}; source sha256 `{source.get('sha256')}`; parity on {head['parity_images']}.",
             "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results, out_dir)]
    md_path = write_text(out_dir / "export_report.md", "\n".join(lines) + "\n")
    return json_path, md_path
