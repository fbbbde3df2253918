"""What the harness needs to know about a model file: runtime, input, reference maps.

An adapter over the export contract (:mod:`edgesal.export.metadata`): an artefact ``F`` has
its metadata in ``F.json`` (or embedded in ``F``) and parity references in ``F.ref.npz``.
Third-party files without them still benchmark (input size from the model itself) but have
no parity check. ``torch`` models are ``.pt`` checkpoints or shipped/registered names.
"""

from __future__ import annotations

import difflib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.runtimes.signatures import REQUIRED_COMPANION, validate_model_file

#: runtime → file suffixes it opens (OpenVINO also reads ONNX directly).
RUNTIME_SUFFIXES: dict[str, tuple[str, ...]] = {
    "litert": (".tflite",),
    "onnxruntime": (".onnx",),
    "openvino": (".xml", ".onnx"),
    "torch": (".pt",),
}
#: suffix → default runtime (``--runtime auto``): the first runtime listing the suffix.
AUTO_RUNTIME: dict[str, str] = {}
for _runtime, _suffixes in RUNTIME_SUFFIXES.items():
    for _suffix in _suffixes:
        AUTO_RUNTIME.setdefault(_suffix, _runtime)

#: suffix → the file a model of that kind may need beside it (copied with it to a device).
_COMPANION: dict[str, Callable[[Path], Path]] = {
    **REQUIRED_COMPANION,  # OpenVINO weights
    ".onnx": lambda p: p.with_name(p.name + ".data"),  # ONNX external data, when the model has it
}


def _did_you_mean(value: str, choices) -> str:
    hint = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.4)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def check_runtime(name: str) -> str:
    """``name`` if it is ``auto`` or a known runtime; else a one-line error with a suggestion."""
    if name == "auto" or name in RUNTIME_SUFFIXES:
        return name
    choices = ["auto", *RUNTIME_SUFFIXES]
    raise EdgesalError(f"unknown runtime {name!r}{_did_you_mean(name, choices)} (runtimes: {', '.join(choices)})")


@dataclass
class Artefact:
    """A model to benchmark: where it is, which runtime opens it, what its metadata says."""

    label: str
    path: str  # a file path, or a model name for the torch runtime
    runtime: str
    metadata: dict = field(default_factory=dict)
    reference: Path | None = None

    @property
    def is_file(self) -> bool:
        return self.runtime != "torch" or Path(self.path).suffix == ".pt"

    @property
    def files(self) -> list[Path]:
        """The model file and its companions (to copy to a remote device)."""
        if not self.is_file:
            return []
        path = Path(self.path)
        companion = _COMPANION[path.suffix](path) if path.suffix in _COMPANION else None
        return [path] + ([companion] if companion is not None and companion.exists() else [])

    @property
    def input_hw(self) -> tuple[int, int] | None:
        hw = self.metadata.get("input_hw")
        return (int(hw[0]), int(hw[1])) if hw else None

    @property
    def precision(self) -> str:
        return self.metadata.get("precision", "fp32")

    def job(self, device_path: str | None = None) -> dict:
        """The runner's view of this model (``device_path``: where the device sees the file)."""
        return {"label": self.label, "path": device_path or self.path, "runtime": self.runtime,
                "layout": self.metadata.get("layout"), "input_hw": list(self.input_hw) if self.input_hw else None}

    def load_reference(self) -> tuple[np.ndarray, np.ndarray, str]:
        """(inputs (N,3,H,W), torch outputs (N,1,H,W), output_kind) from ``F.ref.npz``."""
        if self.reference is None:
            raise EdgesalError(f"{self.label}: no reference file {self.label}.ref.npz (export it with edgesal export)")
        try:
            with np.load(self.reference) as ref:
                kind = str(ref["output_kind"]) if "output_kind" in ref else self.metadata.get("output_kind", "sigmoid")
                inputs, outputs = ref["inputs"].astype(np.float32), ref["outputs"].astype(np.float32)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise EdgesalError(f"{self.reference}: unreadable reference file ({type(exc).__name__}: {exc})") from None
        if inputs.ndim != 4 or outputs.ndim != 4 or len(inputs) != len(outputs) or not len(inputs):
            raise EdgesalError(f"{self.reference}: expected inputs (N, 3, H, W) and outputs (N, 1, H, W), got "
                               f"{list(inputs.shape)} and {list(outputs.shape)}")
        return inputs, outputs, kind


def _read_metadata(path: Path) -> dict:
    from edgesal.export.metadata import sidecar_path
    from edgesal.runtimes.metadata import check_metadata, read_metadata

    sidecar = sidecar_path(path)
    if sidecar.exists():
        try:
            return check_metadata(json.loads(sidecar.read_text()), sidecar)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EdgesalError(f"{sidecar}: not valid JSON ({getattr(exc, 'msg', exc)})") from None
    try:
        return read_metadata(path)
    except Exception:  # noqa: BLE001 - a third-party file without (readable) metadata
        return {}


def _torch_metadata(name: str) -> dict:
    from edgesal.model_info import resolve_torch_model

    _, spec, _ = resolve_torch_model(name)
    if spec is None:
        return {}
    return {"input_hw": list(spec.input_hw), "mean": list(spec.mean), "std": list(spec.std),
            "output_kind": spec.output_kind, "precision": "fp32", "layout": "nchw"}


def _is_torch_name(name: str) -> bool:
    from edgesal.models import list_models
    from edgesal.models.shipped import SHIPPED

    return name in SHIPPED or name in list_models()


def resolve_artefact(spec: str, runtime: str = "auto") -> Artefact:
    """A CLI model argument (file or torch model name) + ``--runtime`` → :class:`Artefact`."""
    check_runtime(runtime)
    path = Path(spec)
    if path.is_dir():  # an OpenVINO artefact folder
        xmls = sorted(path.glob("*.xml"))
        if len(xmls) != 1:
            raise EdgesalError(f"{path}: expected one .xml model in the folder, found {len(xmls)}")
        path = xmls[0]
    if not path.exists():
        if runtime in ("auto", "torch") and _is_torch_name(spec):
            return Artefact(spec, spec, "torch", _torch_metadata(spec))
        raise EdgesalError(f"model file not found: {spec}")
    validate_model_file(path)
    suffix = path.suffix.lower()
    chosen = AUTO_RUNTIME[suffix] if runtime == "auto" else runtime
    if suffix not in RUNTIME_SUFFIXES[chosen]:
        raise EdgesalError(f"runtime {chosen} cannot open {path.name} "
                           f"(it opens {', '.join(RUNTIME_SUFFIXES[chosen])} files)")
    if chosen == "torch":
        return Artefact(path.stem, str(path), "torch", _torch_metadata(str(path)))
    from edgesal.export.metadata import ref_path

    ref = ref_path(path)
    return Artefact(path.name, str(path), chosen, _read_metadata(path), ref if ref.exists() else None)
