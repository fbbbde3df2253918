"""Parse the text printed by TFLite's ``benchmark_model`` tool (any version, any log prefix).

Recognised lines (prefixes such as ``INFO: `` or Android's ``I tflite  : `` are ignored):

- ``count=50 first=… curr=… min=… max=… avg=… std=…`` and, in newer builds,
  `` p5=… median=… p95=…`` — microseconds; the last such line is the timed run (earlier
  ones are warm-up). Operator-profiling lines (``Timings (microseconds): count=…``) are not.
- ``Inference timings in us: Init: …, First inference: …, Warmup (avg): …, Inference (avg): …``
- ``Memory footprint delta from the start of the tool (MB): init=… overall=…`` (or
  ``Peak memory footprint (MB): …`` in older builds), and
  ``Overall peak memory footprint (MB) via periodic monitoring: …``.
"""

from __future__ import annotations

import re

from edgesal.errors import EdgesalError

#: a statistics line, optionally behind ``INFO: `` / logcat ``[date time pid tid] I tflite  : ``
_STAT_LINE = re.compile(r"^(?:[\d-]+\s+[\d:.]+\s+\d+\s+\d+\s+)?(?:[A-Z]\s+\w+\s*:\s*|[A-Z]+:\s*)?count=\d+")
_PAIR = re.compile(r"(\w+)=([-+0-9.eE]+)")
_SUMMARY = re.compile(r"Inference timings in us: Init: ([\d.e+]+), First inference: ([\d.e+]+), "
                      r"Warmup \(avg\): ([\d.e+]+), Inference \(avg\): ([\d.e+]+)")
_MEMORY = re.compile(r"(?:Memory footprint delta from the start of the tool|Peak memory footprint) \(MB\): "
                     r"init=([\d.e+]+) overall=([\d.e+]+)")
_PEAK = re.compile(r"Overall peak memory footprint \(MB\) via periodic monitoring: ([\d.e+]+)")
_FAILED = ("Benchmarking failed", "Failed to apply", "ERROR:")


def _stat_lines(text: str) -> list[dict[str, float]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if _STAT_LINE.match(line):
            out.append({k: float(v) for k, v in _PAIR.findall(line)})
    return out


def parse_benchmark_output(text: str) -> dict:
    """Timing statistics (ms), init/first-inference times and memory (MB) from the output.

    Raises EdgesalError (one line, the tool's own error) when no timed run is found.
    """
    runs = [s for s in _stat_lines(text) if "avg" in s]
    if not runs:
        errors = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(_FAILED) or "ERROR" in ln]
        raise EdgesalError("benchmark_model printed no timings: " + (errors[0] if errors else "unrecognised output"))
    run = runs[-1]
    ms = {k: v / 1000.0 for k, v in run.items() if k != "count"}
    median = ms.get("median", ms["avg"])
    result: dict = {
        "stats": {
            "n": int(run["count"]),
            "median_ms": median,
            "median_from": "median" if "median" in ms else "avg",  # old builds print no percentiles
            "p5_ms": ms.get("p5"),
            "p95_ms": ms.get("p95"),
            "p90_ms": None,
            "p99_ms": None,
            "min_ms": ms.get("min"),
            "max_ms": ms.get("max"),
            "mean_ms": ms["avg"],
            "std_ms": ms.get("std"),
            "fps": 1000.0 / median if median > 0 else float("inf"),
        },
    }
    if summary := _SUMMARY.search(text):
        init, first, warm, _avg = (float(x) / 1000.0 for x in summary.groups())
        result.update(load_ms=init, first_ms=first, warmup_avg_ms=warm)
    memory: dict = {}
    if mem := _MEMORY.search(text):
        memory.update(init_mb=float(mem.group(1)), overall_mb=float(mem.group(2)))
    if peak := _PEAK.search(text):
        memory["peak_mb"] = float(peak.group(1))
    if memory:
        result["memory"] = memory
    return result
