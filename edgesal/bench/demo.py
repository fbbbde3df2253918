"""A tiny exported model for harness self-tests (``device_tests`` without ``--model``, CI).

``uva_tiny_readout`` (64×64 input, untrained, seeded) exported with the real export pipeline
(:func:`edgesal.export.export_model`), so the artefacts carry the same sidecar and
``.ref.npz`` references as user exports. TFLite is added when its converter is installed.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import torch

from edgesal.bench.filelock import file_lock

DEMO_MODEL = "uva_tiny_readout"
_CONVERTER = {"onnx": "onnxscript", "tflite": "litert_torch", "openvino": "openvino"}


def available_targets(wanted: tuple[str, ...] = ("onnx", "tflite")) -> tuple[str, ...]:
    """The export targets among ``wanted`` whose converter package is importable."""
    return tuple(t for t in wanted if importlib.util.find_spec(_CONVERTER[t]) is not None)


def tiny_artefacts(out_dir: str | Path, targets: tuple[str, ...] = ("onnx", "tflite"),
                   precisions: tuple[str, ...] = ("fp32",)) -> list[Path]:
    """Export the tiny model to ``out_dir``; artefacts already there are reused, never rewritten
    (another test worker may be using them). Returns the loadable files that passed parity."""
    from edgesal.export import ExportRequest, export_model, get_format
    from edgesal.export.report import FAILED_SUFFIX

    out = Path(out_dir)
    wanted = [(t, p, out / get_format(t).artefact_name(f"{DEMO_MODEL}_{p}"))
              for t in available_targets(targets) for p in precisions]
    with file_lock(out.with_name(out.name + ".lock")):  # parallel test workers share one export
        for target, precision, path in wanted:
            if path.exists() or path.with_name(path.name + FAILED_SUFFIX).exists():
                continue
            torch.manual_seed(0)  # untrained weights: the same tiny model every time
            with warnings.catch_warnings():  # "few calibration images": irrelevant for a demo model
                warnings.simplefilter("ignore", UserWarning)
                export_model(ExportRequest(model=DEMO_MODEL, targets=(target,), precisions=(precision,),
                                           out=str(out), parity_data=None, parity_images=4, latency_runs=0,
                                           calib_max_images=16))
    return [path for _, _, path in wanted if path.exists()]


def pytest_demo_dir(tmp_path_factory) -> Path:
    """Where pytest suites (``tests/``, ``device_tests/``) keep the demo export: this run's temp
    folder, or under pytest-xdist the workers' common parent, so one export serves all."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "edgesal-demo-artefacts"
