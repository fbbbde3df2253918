"""The one metadata dict written into every artefact, its sidecar JSON and reference file.

Contract (for an artefact whose loadable file is ``F``: ``x.onnx``, ``x.tflite`` or
``x_openvino/x.xml``):

- ``F`` embeds the dict (:func:`write_metadata`: the ``write_metadata`` of the format's
  converter module; read back by :func:`edgesal.runtimes.metadata.read_metadata`);
- ``F.json`` holds the same dict;
- ``F.ref.npz`` holds ``inputs`` (N, 3, H, W) float32 — preprocessed parity images, NCHW,
  normalised — and ``outputs`` (N, 1, H, W) float32 — torch fp32 outputs in the model's
  output semantics — plus ``output_kind``, so a device harness can re-check parity
  without torch (feed ``inputs`` through ``load_runtime(F).run`` and compare).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from edgesal import __version__
from edgesal.atomic import atomic_path, write_json
from edgesal.errors import EdgesalError
from edgesal.export.float_head import float_modules
from edgesal.export.formats import export_function
from edgesal.runtimes.formats import BY_SUFFIX

FORMAT = "edgesal-artefact/1"
OUTPUT_SEMANTICS = {
    "log_density": "natural-log fixation density over the H×W output pixels (exp sums to 1)",
    "sigmoid": "logits; sigmoid(logit) is the per-pixel saliency probability",
}
INPUT_RANGE = "RGB in [0, 1], bilinear resize to input_hw, then (x - mean) / std"
REF_IMAGES = 4


def build_metadata(*, name: str, spec, source: dict, target: str, precision: str, options: dict,
                   session, calibration=None, parity=None) -> dict:
    """The artefact's metadata; input tensor facts come from the runtime session."""
    info = session.input_info
    return {
        "format": FORMAT,
        "model": name,
        "architecture": spec.name,
        "input_hw": list(spec.input_hw),
        "mean": list(spec.mean),
        "std": list(spec.std),
        "input_range": INPUT_RANGE,
        "layout": session.layout,
        "input_shape": list(info.shape),
        "input_dtype": info.dtype.name,
        "input_quantization": {"scale": info.scale, "zero_point": info.zero_point} if info.quantized else None,
        "output_shape": list(session.output_info.shape),
        "output_dtype": session.output_info.dtype.name,
        "output_kind": spec.output_kind,
        "output_semantics": OUTPUT_SEMANTICS[spec.output_kind],
        "target": target,
        "precision": precision,
        "options": dict(options),
        "float_modules": list(float_modules()) if precision != "fp32" else [],
        "calibration": None if calibration is None else {
            "source": calibration.source, "images": len(calibration), "skipped": len(calibration.skipped)},
        "edgesal_version": __version__,
        "source_checkpoint": source.get("path"),
        "source_sha256": source.get("sha256"),
        "exported_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "parity": None if parity is None else parity.to_dict(),
    }


def write_metadata(path: str | Path, meta: dict) -> None:
    """Embed ``meta`` (JSON-serialisable) into the artefact, replacing earlier edgesal metadata."""
    path = Path(path)
    fmt = BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise EdgesalError(f"no metadata writer for {path.suffix!r} files (known: {', '.join(BY_SUFFIX)})")
    export_function(fmt.metadata_writer)(path, meta)


def sidecar_path(artefact: Path) -> Path:
    return artefact.with_name(artefact.name + ".json")


def ref_path(artefact: Path) -> Path:
    return artefact.with_name(artefact.name + ".ref.npz")


def write_sidecar(artefact: Path, meta: dict) -> Path:
    return write_json(sidecar_path(artefact), meta)


def write_reference(artefact: Path, inputs: np.ndarray, outputs: np.ndarray, output_kind: str,
                    n: int = REF_IMAGES) -> Path:
    """The first ``n`` parity inputs and torch outputs (compressed npz)."""
    path = ref_path(artefact)
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        np.savez_compressed(f, inputs=inputs[:n].astype(np.float32), outputs=outputs[:n].astype(np.float32),
                            output_kind=np.array(output_kind))
    return path
