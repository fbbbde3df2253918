"""What the harness needs to know about a model file: runtime, input, reference maps.

An adapter over the export contract (:mod:`edgesal.export.metadata`): an artefact ``F`` has
its metadata in ``F.json`` (or embedded in ``F``) and parity references in ``F.ref.npz``.
Third-party files without them still benchmark (input size from the model itself) but have
no parity check. ``torch`` models are ``.pt`` checkpoints or shipped/registered names.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.runtimes.files import companion_files, model_path, validate_model_file
from edgesal.runtimes.formats import closest, runtime_session, runtime_suffixes

TORCH = "torch"
#: runtime → file suffixes it opens (from the format table; OpenVINO also reads ONNX) + torch.
RUNTIME_SUFFIXES: dict[str, tuple[str, ...]] = dict(sorted({**runtime_suffixes(), TORCH: (".pt",)}.items()))
#: suffix → default runtime (``--runtime auto``): the runtime of the format with that suffix.
AUTO_RUNTIME: dict[str, str] = {suffixes[0]: runtime for runtime, suffixes in RUNTIME_SUFFIXES.items()}


def check_runtime(name: str) -> str:
    """``name`` if it is ``auto`` or a known runtime; else a one-line error with a suggestion."""
    if name == "auto" or name in RUNTIME_SUFFIXES:
        return name
    choices = ["auto", *RUNTIME_SUFFIXES]
    raise EdgesalError(f"unknown runtime {name!r}{closest(name, choices)} (runtimes: {', '.join(choices)})")


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
        return self.runtime != TORCH or Path(self.path).suffix == ".pt"

    @property
    def files(self) -> list[Path]:
        """The model file and its companions (to copy to a remote device)."""
        if not self.is_file:
            return []
        return [Path(self.path), *companion_files(Path(self.path))]

    @property
    def session(self) -> str:
        """The runner's "module:Class" for this model's runtime."""
        from edgesal.bench.torch_session import TORCH_SESSION

        return TORCH_SESSION if self.runtime == TORCH else runtime_session(self.runtime)

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
                "session": self.session, "layout": self.metadata.get("layout"),
                "input_hw": list(self.input_hw) if self.input_hw else None}

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
    except Exception:
        return {}


def _torch_artefact(label: str, name: str) -> Artefact:
    """A torch model (shipped name, architecture or ``.pt``) with its preprocessing as metadata."""
    from edgesal.models.factory import create_model

    spec = create_model(name).spec
    return Artefact(label, name, TORCH, {"input_hw": list(spec.input_hw), "mean": list(spec.mean),
                                         "std": list(spec.std), "output_kind": spec.output_kind,
                                         "precision": "fp32", "layout": "nchw"})


def _is_torch_name(name: str) -> bool:
    from edgesal.models.factory import model_source

    source = model_source(name)
    return source is not None and source.kind in ("shipped", "architecture")


def resolve_artefact(spec: str, runtime: str = "auto") -> Artefact:
    """A CLI model argument (file or torch model name) + ``--runtime`` → :class:`Artefact`."""
    check_runtime(runtime)
    path = model_path(spec)  # an OpenVINO artefact folder → its .xml
    if not path.exists():
        if runtime in ("auto", TORCH) and _is_torch_name(spec):
            return _torch_artefact(spec, spec)
        raise EdgesalError(f"model file not found: {spec}")
    validate_model_file(path)
    suffix = path.suffix.lower()
    chosen = AUTO_RUNTIME[suffix] if runtime == "auto" else runtime
    if suffix not in RUNTIME_SUFFIXES[chosen]:
        raise EdgesalError(f"runtime {chosen} cannot open {path.name} "
                           f"(it opens {', '.join(RUNTIME_SUFFIXES[chosen])} files)")
    if chosen == TORCH:
        return _torch_artefact(path.stem, str(path))
    from edgesal.export.metadata import ref_path

    ref = ref_path(path)
    return Artefact(path.name, str(path), chosen, _read_metadata(path), ref if ref.exists() else None)
