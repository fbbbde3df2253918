"""The one latency timer: models interleaved round by round, plus the statistics of its samples.

``edgesal bench`` (on every device), the export report's single-thread latency and the
pruning sweep all time with :func:`interleave` (one callable is the degenerate case), so
warm-up, clock and units are the same everywhere.

Part of the device-side runtime layer: numpy + standard library, Python 3.8.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np


def interleave(calls: Sequence[Callable[[], object]], runs: int, warmup: int,
               clock: Callable[[], float] = time.perf_counter) -> list[list[float]]:
    """Warm each callable up, then time ``runs`` rounds of ``calls[0](), calls[1](), …``.

    Returns one list of latencies (ms) per callable, in the order of ``calls``.
    """
    for call in calls:
        for _ in range(warmup):
            call()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(runs):
        for i, call in enumerate(calls):
            t0 = clock()
            call()
            times[i].append((clock() - t0) * 1000.0)
    return times


def median_latency(call: Callable[[], object], runs: int = 20, warmup: int = 3) -> float:
    """Median wall time (ms) of ``call()`` after ``warmup`` calls."""
    return float(np.median(interleave([call], runs, warmup)[0]))


def summarise(samples_ms) -> dict:
    """median, p90, p99, min, max, mean (ms) and FPS (= 1000 / median) of latency samples."""
    a = np.asarray(samples_ms, dtype=np.float64)
    if a.size == 0:
        return {"n": 0}
    median = float(np.median(a))
    return {
        "n": int(a.size),
        "median_ms": median,
        "p90_ms": float(np.percentile(a, 90)),
        "p99_ms": float(np.percentile(a, 99)),
        "min_ms": float(a.min()),
        "max_ms": float(a.max()),
        "mean_ms": float(a.mean()),
        "fps": 1000.0 / median if median > 0 else float("inf"),
    }


def paired_ratio(samples_ms, baseline_ms) -> float:
    """Median over rounds of ``samples[r] / baseline[r]`` (robust to drifts shared by both)."""
    a, b = np.asarray(samples_ms, np.float64), np.asarray(baseline_ms, np.float64)
    n = min(a.size, b.size)
    return float(np.median(a[:n] / b[:n])) if n else float("nan")
