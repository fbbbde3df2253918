"""Speed on real (non-emulated) devices: every thread count reaches ``--target-fps``.

Marked ``real_timings``: ``conftest.py`` does not collect it for emulated devices (qemu).
"""

from __future__ import annotations

import pytest

from edgesal.bench.devices import BenchJob
from edgesal.bench.harness import summarise_results


@pytest.mark.real_timings
def test_fps_meets_target(device, artefact, pytestconfig):
    target = pytestconfig.getoption("--target-fps")
    threads = [int(t) for t in pytestconfig.getoption("--threads").split(",")]
    mean, std = artefact.metadata.get("mean", [0.5] * 3), artefact.metadata.get("std", [0.5] * 3)
    job = BenchJob([artefact], threads, pytestconfig.getoption("--runs"), 5,
                   {artefact.label: {"kind": "random", "seed": 0, "mean": mean, "std": std}})
    rows = summarise_results(device.bench(job), target, device.emulated)
    slow = [f"{r['threads']} thread(s): {r['fps']:.1f} FPS (median {r['median_ms']:.2f} ms)"
            for r in rows if not r["meets_target"]]
    assert not slow, f"{artefact.label} on {device.name} below {target:g} FPS: " + "; ".join(slow)
