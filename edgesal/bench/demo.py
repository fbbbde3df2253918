"""A tiny exported model for harness self-tests (``device_tests`` without ``--model``, CI).

``uva_tiny_readout`` (64×64 input, untrained, seeded) exported with the real export pipeline
(:func:`edgesal.export.export_model`), so the artefacts carry the same sidecar and
``.ref.npz`` references as user exports. TFLite is added when its converter is installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

DEMO_MODEL = "uva_tiny_readout"
_CONVERTER = {"onnx": "onnxscript", "tflite": "litert_torch", "openvino": "openvino"}


def available_targets(wanted: tuple[str, ...] = ("onnx", "tflite")) -> tuple[str, ...]:
    """The export targets among ``wanted`` whose converter package is importable."""
    return tuple(t for t in wanted if importlib.util.find_spec(_CONVERTER[t]) is not None)


def tiny_artefacts(out_dir: str | Path, targets: tuple[str, ...] = ("onnx", "tflite"),
                   precisions: tuple[str, ...] = ("fp32",)) -> list[Path]:
    """Export the tiny model to ``out_dir`` (reused when already there); the loadable files."""
    from edgesal.export import ExportRequest, export_model, get_format

    out = Path(out_dir)
    targets = available_targets(targets)
    expected = [out / get_format(t).artefact_name(f"{DEMO_MODEL}_{p}") for t in targets for p in precisions]
    if expected and all(p.exists() for p in expected):
        return expected
    torch.manual_seed(0)  # untrained weights: the same tiny model every time
    results = export_model(ExportRequest(model=DEMO_MODEL, targets=targets, precisions=precisions, out=str(out),
                                         parity_data=None, parity_images=4, latency_runs=0, calib_max_images=16))
    return [r.path for r in results if r.passed]
