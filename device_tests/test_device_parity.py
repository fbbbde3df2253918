"""Output parity on the device: CC of its saliency maps against the artefact's torch references
(``<artefact>.ref.npz``) ≥ the export gate's ``min_cc`` for the artefact's precision
(:data:`edgesal.export.parity.DEFAULT_THRESHOLDS`; emulated devices included)."""

from __future__ import annotations

import pytest

from edgesal.bench.harness import check_parity


def test_parity_against_reference_maps(device, artefact):
    if artefact.reference is None:
        pytest.skip(f"{artefact.label} has no {artefact.label}.ref.npz (export it with `edgesal export`)")
    if not device.supports_outputs:
        pytest.skip(f"{device.kind} devices return no output maps (timed with benchmark_model)")
    result = check_parity(device, artefact)
    assert result["passed"], (f"{artefact.label} on {device.name}: CC {result['cc_mean']:.4f} "
                              f"(min {result['cc_min']:.4f}) < {result['min_cc']} for {result['precision']}; "
                              f"max |Δ| {result['max_abs_diff']:.3g}")
