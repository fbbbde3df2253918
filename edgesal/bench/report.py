"""Bench reports: ``bench.json`` (the document), ``bench.md`` and a self-contained ``bench.html``.

Both renderings are built from the same tables (:func:`report_tables`); the HTML adds an
inline SVG chart of latency per model × runtime × threads (no scripts, no external files).
``rebuild`` re-renders the Markdown and HTML from a saved ``bench.json``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from edgesal.atomic import write_json, write_text
from edgesal.errors import EdgesalError

JSON_NAME, MD_NAME, HTML_NAME = "bench.json", "bench.md", "bench.html"
EMULATED_NOTE = ("Timings were measured under emulation (qemu-user translating ARM code on another CPU): "
                 "they show translation overhead, not the speed of an ARM device, and are never compared "
                 "with the FPS target. Parity (CC against the torch reference) is what this run checks.")
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _num(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _verdict(row: dict) -> str:
    if row.get("meets_target") is None:
        return "emulated"
    return "pass" if row["meets_target"] else "FAIL"


def title(doc: dict) -> str:
    dev = doc["device"]
    name = dev.get("board") or dev.get("cpu_model", "unknown CPU")
    return f"edgesal bench — {dev['spec']} ({name}){' — EMULATED' if dev.get('emulated') else ''}"


def report_tables(doc: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table in the report, in order."""
    dev = doc["device"]
    device_rows = [["device", dev["spec"]], ["CPU", dev.get("cpu_model", "?")],
                   ["cores", _num(dev.get("cores"))], ["ISA", ", ".join(dev.get("isa", [])) or "—"],
                   ["OS", dev.get("os", "?")], ["machine", dev.get("machine", "?")],
                   ["python", dev.get("python", "—")], ["emulated", "yes" if dev.get("emulated") else "no"]]
    device_rows += [[f"lib {k}", v] for k, v in dev.get("libraries", {}).items()]
    if doc.get("host"):
        device_rows.append(["host CPU", f"{doc['host'].get('cpu_model', '?')} ({doc['host'].get('machine', '?')})"])
    target = doc["config"]["target_fps"]
    latency = [[r["model"], r["runtime"], str(r["threads"]), _num(r["median_ms"], 3), _num(r.get("p90_ms"), 3),
                _num(r.get("p99_ms"), 3), _num(r.get("min_ms"), 3), _num(r["fps"], 1),
                _num(r.get("ratio_to_first"), 3), _verdict(r)] for r in doc["results"]]
    tables = [
        ("Device", ["", ""], device_rows),
        ("Latency", ["model", "runtime", "threads", "median ms", "p90 ms", "p99 ms", "min ms", "FPS",
                     "× first model", f"≥ {target:g} FPS"], latency),
    ]
    if doc.get("memory"):
        tables.append(("Memory (peak RSS of a process running one model)",
                       ["model", "peak RSS MB", "model + arena MB"],
                       [[k, _num(v.get("peak_rss_mb"), 1), _num(v.get("model_peak_rss_mb"), 1)]
                        for k, v in doc["memory"].items()]))
    if doc.get("parity"):
        tables.append(("Parity (device output vs torch fp32 reference)",
                       ["model", "precision", "images", "CC mean", "CC min", "max abs Δ", "min CC", "result"],
                       [[k, p["precision"], str(p["images"]), _num(p["cc_mean"], 5), _num(p["cc_min"], 5),
                         f"{p['max_abs_diff']:.2e}", _num(p["min_cc"]), "pass" if p["passed"] else "FAIL"]
                        for k, p in doc["parity"].items()]))
    return tables + pick_tables(doc)


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else ("pass" if value else "FAIL")


def pick_tables(doc: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """``bench --pick``: the recommendation per thread count and each artefact's eligibility ([] otherwise)."""
    pick = doc.get("pick")
    if not pick:
        return []
    choices = [[str(c["threads"]), c["model"] or "none", _num(c.get("median_ms"), 3), c["why"]]
               for c in pick["choices"]]
    status = [[k, _yes_no(v["export_gate"]), _yes_no(v["device_parity"]), "yes" if v["eligible"] else "no",
               v["why_not"] or "—"] for k, v in pick["eligibility"].items()]
    return [("Pick (fastest artefact that passed parity)", ["threads", "pick", "median ms", "why"], choices),
            ("Eligibility", ["model", "export gate", "device parity", "eligible", "why not"], status)]


def _summary_line(doc: dict) -> str:
    cfg = doc["config"]
    return (f"{doc['created']} · edgesal {doc['edgesal_version']} · {cfg['warmup']} warm-up + {cfg['runs']} timed "
            f"runs, models interleaved per run · input: {cfg['input']} · verdict: FPS {doc['verdict']['fps']}, "
            f"parity {doc['verdict']['parity']}")


Table = tuple[str, list[str], list[list[str]]]


def markdown_page(heading: str, intro: list[str], tables: list[Table], footer: list[str] = ()) -> str:
    """A Markdown page: ``# heading``, intro paragraphs, one ``##`` section per table, footer lines."""
    lines = [f"# {heading}", ""]
    for paragraph in intro:
        lines += [paragraph, ""]
    for name, header, rows in tables:
        lines += [f"## {name}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    lines += list(footer)
    return "\n".join(lines) + "\n"


def to_markdown(doc: dict) -> str:
    intro = [_summary_line(doc)] + ([f"> {EMULATED_NOTE}"] if doc["device"].get("emulated") else [])
    return markdown_page(title(doc), intro, report_tables(doc), [
        "Ratios (× first model) are medians over rounds of paired latencies against the first model at "
        "the same thread count: the models ran alternately, so machine noise affects them alike."])


def _target_caption(target_ms: float | None, shown: bool) -> str:
    if target_ms is None:
        return ""
    return f"; dashed: FPS target ({target_ms:.1f} ms)" if shown else f"; FPS target {target_ms:.1f} ms is off-scale"


def latency_svg(rows: list[dict], target_fps: float | None) -> str:
    """Horizontal bars: median latency per model × runtime × threads, whisker from min to p90."""
    if not rows:
        return ""
    left, width, bar_h, gap, top = 330, 420, 16, 8, 24
    highs = [r.get("p90_ms") or r["median_ms"] for r in rows]
    target_ms = 1000.0 / target_fps if target_fps else None
    scale_max = max(highs) * 1.1
    show_target = target_ms is not None and target_ms <= scale_max * 1.5
    if show_target:
        scale_max = max(scale_max, target_ms * 1.05)
    height = top + len(rows) * (bar_h + gap) + 30
    colours = {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(dict.fromkeys(r["model"] for r in rows))}
    x = lambda ms: left + width * ms / scale_max  # noqa: E731
    parts = [f'<svg width="{left + width + 70}" height="{height}" '
             f'font-family="sans-serif" font-size="12" role="img" aria-label="latency chart">',
             f'<text x="{left}" y="14">median latency (ms); whisker: min–p90{_target_caption(target_ms, show_target)}'
             '</text>']
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        label = html.escape(f"{r['model']} · {r['runtime']} · {r['threads']} thr")
        lo, hi = r.get("min_ms") or r["median_ms"], r.get("p90_ms") or r["median_ms"]
        parts += [f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{label}</text>',
                  f'<rect x="{left}" y="{y}" width="{x(r["median_ms"]) - left:.1f}" height="{bar_h}" '
                  f'fill="{colours[r["model"]]}"><title>{label}: {r["median_ms"]:.3f} ms</title></rect>',
                  f'<line x1="{x(lo):.1f}" x2="{x(hi):.1f}" y1="{y + bar_h / 2}" y2="{y + bar_h / 2}" '
                  f'stroke="#222" stroke-width="1.5"/>',
                  f'<text x="{x(max(hi, r["median_ms"])) + 4:.1f}" y="{y + 12}">{r["median_ms"]:.2f}</text>']
    axis_y = top + len(rows) * (bar_h + gap)
    parts.append(f'<line x1="{left}" x2="{left + width}" y1="{axis_y}" y2="{axis_y}" stroke="#888"/>')
    for k in range(5):
        ms = scale_max * k / 4
        parts.append(f'<text x="{x(ms):.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#555">{ms:.3g}</text>')
    if show_target:
        parts.append(f'<line x1="{x(target_ms):.1f}" x2="{x(target_ms):.1f}" y1="{top - 4}" y2="{axis_y}" '
                     f'stroke="#c00" stroke-dasharray="4 3"><title>{target_fps:g} FPS = {target_ms:.1f} ms'
                     f'</title></line>')
    parts.append("</svg>")
    return "\n".join(parts)


_CSS = ("body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}"
        "table{border-collapse:collapse;margin:0 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f3f3f3}"
        ".note{background:#fff4d6;border-left:4px solid #e0a800;padding:.6em 1em}.FAIL{color:#c00;font-weight:bold}"
        ".pass{color:#070}")


_CLASS = {"pass": ' class="pass"', "FAIL": ' class="FAIL"'}


def html_page(heading: str, intro: list[str], tables: list[Table], before: dict[str, str] | None = None,
              note: str | None = None) -> str:
    """A single self-contained page (inline CSS; ``before``: raw HTML, e.g. an SVG, put above a table)."""
    body = [f"<h1>{html.escape(heading)}</h1>", *(f"<p>{html.escape(p)}</p>" for p in intro)]
    if note:
        body.append(f'<p class="note">{html.escape(note)}</p>')
    for name, header, rows in tables:
        body.append(f"<h2>{html.escape(name)}</h2>")
        if before and name in before:
            body.append(before[name])
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        cells = "".join("<tr>" + "".join(f"<td{_CLASS.get(c, '')}>{html.escape(c)}</td>" for c in row)
                        + "</tr>" for row in rows)
        body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)}'
            f"</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def to_html(doc: dict) -> str:
    """The bench report as one self-contained page (inline CSS and SVG; nothing loaded from elsewhere)."""
    target = None if doc["device"].get("emulated") else doc["config"]["target_fps"]
    return html_page(title(doc), [_summary_line(doc)], report_tables(doc),
                     {"Latency": latency_svg(doc["results"], target)},
                     EMULATED_NOTE if doc["device"].get("emulated") else None)


def write_reports(doc: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write bench.json, bench.md and bench.html into ``out_dir``."""
    out = Path(out_dir)
    write_json(out / JSON_NAME, doc)
    return {"json": out / JSON_NAME, **render(doc, out)}


def render(doc: dict, out_dir: Path) -> dict[str, Path]:
    return {"markdown": write_text(out_dir / MD_NAME, to_markdown(doc)),
            "html": write_text(out_dir / HTML_NAME, to_html(doc))}


#: what the renderings read: dotted keys of the document, then the keys of every entry of its lists/maps
REQUIRED_KEYS = ("created", "edgesal_version", "device.spec", "config.target_fps", "config.runs", "config.warmup",
                 "config.input", "verdict.fps", "verdict.parity", "results")
ENTRY_KEYS = {
    "results": ("model", "runtime", "threads", "median_ms", "fps"),
    "parity": ("precision", "images", "cc_mean", "cc_min", "max_abs_diff", "min_cc", "passed"),
    "memory": (),
}
NUMBERS = ("median_ms", "fps", "cc_mean", "cc_min", "max_abs_diff", "min_cc", "target_fps")


def _entries(doc: dict, name: str) -> list[tuple[str, object]]:
    """(where, entry) of ``doc[name]``: a list (``results[0]``) or a map (``parity.label``)."""
    value = doc.get(name) or ({} if name != "results" else [])
    if isinstance(value, list):
        return [(f"{name}[{i}]", entry) for i, entry in enumerate(value)]
    if isinstance(value, dict):
        return [(f"{name}.{key}", entry) for key, entry in value.items()]
    return [(name, value)]


def _check_document(doc: dict) -> str | None:
    """What makes ``doc`` unrenderable (a missing key or a wrong type), or None."""
    for dotted in REQUIRED_KEYS:
        node = doc
        for key in dotted.split("."):
            if not isinstance(node, dict) or key not in node:
                return f"missing key {dotted!r}"
            node = node[key]
    if not isinstance(doc["config"]["target_fps"], (int, float)):
        return "'config.target_fps' is not a number"
    for name, keys in ENTRY_KEYS.items():
        for where, entry in _entries(doc, name):
            if not isinstance(entry, dict):
                return f"{where!r} is not an object"
            missing = next((k for k in keys if k not in entry), None)
            if missing:
                return f"missing key '{where}.{missing}'"
            wrong = next((k for k in keys if k in NUMBERS and not isinstance(entry[k], (int, float))), None)
            if wrong:
                return f"'{where}.{wrong}' is not a number"
    return None


def load_document(path: str | Path) -> dict:
    """A bench document from ``bench.json`` or a folder holding it (one-line errors)."""
    path = Path(path)
    if path.is_dir():
        path = path / JSON_NAME
    if not path.is_file():
        raise EdgesalError(f"no bench report at {path} (write one with: edgesal bench … --report DIR)")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise EdgesalError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(doc, dict) or not str(doc.get("schema", "")).startswith("edgesal-bench/"):
        raise EdgesalError(f"{path}: not an edgesal bench report (no 'schema: edgesal-bench/…')")
    problem = _check_document(doc)
    if problem:
        raise EdgesalError(f"{path}: incomplete bench report: {problem}")
    return doc


def rebuild(path: str | Path) -> dict[str, Path]:
    """Re-render bench.md and bench.html beside a saved bench.json."""
    path = Path(path)
    doc = load_document(path)
    return render(doc, path if path.is_dir() else path.parent)
