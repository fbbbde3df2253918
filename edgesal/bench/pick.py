"""``edgesal bench --pick``: time every artefact of a model in export folders, recommend the fastest
one that passed parity.

An artefact is *eligible* when the export gate passed it (:func:`edgesal.bench.parity_status.export_parity`:
sidecar or ``export_report.json``) and, where the device returns output maps and the artefact has
its ``.ref.npz``, the device's own parity check passed too (int8 kernels differ between CPUs).
Among the eligible ones the lowest median latency wins, per thread count.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from edgesal.bench.parity_status import export_parity
from edgesal.errors import EdgesalError

_PRECISION = re.compile(r"^(.+?)_(?:\d+x\d+_)?(?:fp32|fp16|int8)(?:_|$)")


def artefact_model(path: Path) -> str:
    """The model an artefact was exported from: its sidecar's ``model``, else its name's prefix."""
    import json

    from edgesal.export.metadata import sidecar_path

    try:
        name = json.loads(sidecar_path(path).read_text()).get("model")
    except (OSError, ValueError, AttributeError):
        name = None
    if isinstance(name, str) and name:
        return name
    match = _PRECISION.match(path.stem)
    return match.group(1) if match else path.stem


def find_artefacts(places: list[str], model: str | None = None) -> list[Path]:
    """Loadable artefacts in export folders (or given files), of ``model`` when named; one model only."""
    from edgesal.runtimes.formats import EXPORT_FORMATS

    found: list[Path] = []
    for place in places:
        path = Path(place)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(p for f in EXPORT_FORMATS.values() for p in path.glob(f.artefact_name("*")))
        else:
            raise EdgesalError(f"export folder or artefact not found: {place}")
    models = sorted({artefact_model(p) for p in found})
    if model is not None:
        found = [p for p in found if artefact_model(p) == model]
        if not found:
            raise EdgesalError(f"no artefact of model {model!r} in {', '.join(places)} "
                               f"(models there: {', '.join(models) or 'none'})")
    elif len(models) > 1:
        raise EdgesalError(f"artefacts of several models in {', '.join(places)}: {', '.join(models)} "
                           "(choose one with --model NAME)")
    if not found:
        raise EdgesalError(f"no exported artefacts in {', '.join(places)} (write some with: edgesal export)")
    return found


def eligibility(doc: dict) -> dict[str, dict]:
    """Per bench label: the export gate's verdict, the device parity verdict, eligible or not, why."""
    out = {}
    for m in doc["models"]:
        gate = export_parity(m["path"])
        device = doc.get("parity", {}).get(m["label"])
        ok = bool(gate.passed) and (device is None or device["passed"])
        why = gate.detail if not gate.passed else (
            f"device parity CC {device['cc_mean']:.4f} < {device['min_cc']}" if device and not device["passed"] else "")
        out[m["label"]] = {"export_gate": gate.passed, "device_parity": None if device is None else device["passed"],
                           "eligible": ok, "why_not": why}
    return out


def choose(doc: dict, status: dict[str, dict]) -> list[dict]:
    """Per thread count: the eligible row with the lowest median, and why it won."""
    picks = []
    for threads in dict.fromkeys(r["threads"] for r in doc["results"]):
        rows = sorted((r for r in doc["results"] if r["threads"] == threads), key=lambda r: r["median_ms"])
        eligible = [r for r in rows if status[r["model"]]["eligible"]]
        if not eligible:
            picks.append({"threads": threads, "model": None, "why": "no artefact passed parity"})
            continue
        best, rest = eligible[0], eligible[1:]
        why = f"fastest of {len(eligible)} artefact(s) that passed parity"
        if rest:
            why += f"; {rest[0]['median_ms'] / best['median_ms']:.2f}× faster than {rest[0]['model']}"
        faster = [r["model"] for r in rows if r["median_ms"] < best["median_ms"]]
        if faster:
            why += f"; faster but not eligible: {', '.join(faster)}"
        picks.append({"threads": threads, "model": best["model"], "runtime": best["runtime"],
                      "median_ms": best["median_ms"], "why": why})
    return picks


def run_pick(request, places: list[str], model: str | None, options=None,
             log: Callable[[str], None] | None = None) -> dict:
    """Bench every artefact of one model found in ``places``; the bench document plus ``pick``."""
    from edgesal.bench.harness import run_bench

    request.models = [str(p) for p in find_artefacts(places, model)]
    doc = run_bench(request, options, log)
    status = eligibility(doc)
    doc["pick"] = {"eligibility": status, "choices": choose(doc, status)}
    return doc
