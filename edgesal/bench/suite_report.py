"""``edgesal benchmark`` results: the rows, the console table and ``benchmark.{json,md,html}``.

The Markdown and HTML pages are rendered by the bench report's page builders
(:func:`edgesal.bench.report.markdown_page`, :func:`~edgesal.bench.report.html_page`).
"""

from __future__ import annotations

from pathlib import Path

from edgesal.atomic import write_json, write_text
from edgesal.bench.report import html_page, markdown_page
from edgesal.runtimes.timing import paired_ratio

JSON_NAME, MD_NAME, HTML_NAME = "benchmark.json", "benchmark.md", "benchmark.html"
#: status → symbol: passed the parity gate, exported but failed it, failed to export; torch is the reference
SYMBOLS = {"passed": "✅", "failed_validation": "❎", "failed_export": "❌", "reference": "✅"}
#: accuracy columns: (metric key of the evaluation, column name, digits)
METRIC_COLUMNS = (("auc_judd", "AUC-J", 4), ("sauc", "sAUC", 4), ("nss", "NSS", 3), ("cc", "CC", 4), ("kld", "KL", 3))


def _timing_rows(timing: dict) -> list[dict]:
    """The bench rows in model order (the harness keeps the order it was given)."""
    by_label = {r["model"]: r for r in timing["results"]}
    return [by_label.get(m["label"]) for m in timing["models"]]


def _reference_row(source: dict, timed: dict | None, metrics: dict | None) -> dict:
    path = source.get("path")
    size = round(Path(path).stat().st_size / 2**20, 3) if path and Path(path).is_file() else None
    return {"target": "torch", "precision": "fp32", "runtime": "torch", "file": path or source.get("name"),
            "status": "reference", "reason": "the model itself (reference of the parity gate)", "reused": False,
            "export_s": None, "size_mb": size, "parity": None, "timed": timed, "metrics": metrics}


def build_rows(jobs, loadable, timing: dict, metrics: list[dict | None], source: dict) -> list[dict]:
    """One row per job plus the torch reference (first): status, size, latency, ratios, metrics."""
    timed = _timing_rows(timing)
    by_job = {id(j): (timed[i + 1], metrics[i + 1]) for i, j in enumerate(loadable)}
    rows = [_reference_row(source, timed[0], metrics[0])]
    for job in jobs:
        t, m = by_job.get(id(job), (None, None))
        rows.append({"target": job.target, "precision": job.precision, "runtime": (t or {}).get("runtime"),
                     "file": job.artefact or None, "status": job.status, "reason": job.reason, "reused": job.reused,
                     "export_s": job.export_s, "size_mb": job.size_mb, "parity": job.parity, "timed": t,
                     "metrics": m})
    fastest = min((r["timed"] for r in rows if r["timed"]), key=lambda t: t["median_ms"], default=None)
    for row in rows:
        row["symbol"] = SYMBOLS[row["status"]]
        t = row.pop("timed")
        row["median_ms"] = t["median_ms"] if t else None
        row["p90_ms"] = t.get("p90_ms") if t else None
        row["fps"] = t["fps"] if t else None
        row["ratio_torch"] = t.get("ratio_to_first") if t else None
        row["ratio_fastest"] = paired_ratio(t["latencies_ms"], fastest["latencies_ms"]) if t else None
    return rows


def _num(value, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _note(row: dict) -> str:
    scoring = (row.get("metrics") or {}).get("error")
    if row["status"] == "reference":
        note = "reference"
    else:
        note = row["reason"] or ("reused" if row["reused"] else f"exported in {row['export_s']:.0f} s")
    return note + (f"; scoring failed: {scoring}" if scoring else "")


def header(doc: dict) -> list[str]:
    scored = doc["config"].get("data") is not None
    return ["format", "precision", "status", "size MB", "ms", "× fastest", "× torch",
            *([name for _, name, _ in METRIC_COLUMNS] if scored else []), "note"]


def table_rows(doc: dict) -> list[list[str]]:
    """The one results table as strings (console, Markdown and HTML)."""
    scored = doc["config"].get("data") is not None
    out = []
    for r in doc["rows"]:
        metrics = r.get("metrics") or {}
        cells = [r["target"], r["precision"], r["symbol"], _num(r["size_mb"], 2), _num(r["median_ms"], 2),
                 _num(r["ratio_fastest"], 2), _num(r["ratio_torch"], 2)]
        if scored:
            cells += [_num(metrics.get(key), digits) for key, _, digits in METRIC_COLUMNS]
        out.append([*cells, _note(r)])
    return out


def title(doc: dict) -> str:
    return f"edgesal benchmark — {doc['model']} — {doc['device'].get('cpu_model', 'unknown CPU')}"


def summary(doc: dict) -> str:
    cfg = doc["config"]
    split = f"{cfg['data']} {cfg.get('split') or '(default split)'}" if cfg.get("data") else "no dataset"
    limit = f", first {cfg['limit']} images" if cfg.get("limit") else ""
    return (f"{doc['created']} · edgesal {doc['edgesal_version']} · {cfg['threads']} thread(s), {cfg['warmup']} "
            f"warm-up + {cfg['runs']} timed runs, all models interleaved per run · accuracy: {split}{limit} · "
            f"✅ passed the parity gate, ❎ exported but failed it (written as .failed; timed, not published), "
            f"❌ failed to export")


def _tables(doc: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    return [("Results", header(doc), table_rows(doc))]


def write_reports(doc: dict, out_dir: str | Path) -> dict[str, Path]:
    """``benchmark.json``, ``benchmark.md`` and a self-contained ``benchmark.html`` (each written atomically)."""
    out = Path(out_dir)
    footer = ["× fastest / × torch: medians over rounds of paired latencies (the models ran alternately)."]
    return {"json": write_json(out / JSON_NAME, doc),
            "markdown": write_text(out / MD_NAME, markdown_page(title(doc), [summary(doc)], _tables(doc), footer)),
            "html": write_text(out / HTML_NAME, html_page(title(doc), [summary(doc)], _tables(doc)))}
