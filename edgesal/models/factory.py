"""``create_model``: the one place that turns what a user typed into an edgesal torch model.

A model is named by a shipped name (``default``), a registered architecture
(``fastsal_a_mnv2_readout``, untrained) or a ``.pt`` checkpoint path. Exported artefacts
(``.onnx``, ``.tflite``, ``.xml``) are recognised too, so callers can say clearly that they
run in their runtime rather than in torch. :func:`model_source` classifies without loading;
:func:`create_model` loads.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from edgesal.errors import EdgesalError
from edgesal.models.checkpoint import load_checkpoint
from edgesal.models.registry import ModelSpec, build_model, get_spec, list_models
from edgesal.models.shipped import SHIPPED, shipped_path
from edgesal.runtimes.formats import BY_SUFFIX

ARTEFACT_SUFFIXES = tuple(BY_SUFFIX)  # every export target's loadable file


@dataclass(frozen=True)
class ModelSource:
    """What a model argument names: ``kind`` is shipped | architecture | checkpoint | artefact."""

    kind: str
    name: str  # display name: the shipped/architecture name or the file stem
    path: Path | None = None

    @property
    def is_torch(self) -> bool:
        return self.kind != "artefact"


@dataclass
class TorchModel:
    """A loaded edgesal model: the module (eval mode), its spec and where it came from."""

    model: nn.Module
    spec: ModelSpec
    meta: dict  # name, path, sha256 (+ the checkpoint's own metadata)

    @property
    def source(self) -> dict:
        return {"name": self.meta.get("name", self.spec.name), "path": self.meta.get("path"),
                "sha256": self.meta.get("sha256")}


def model_source(name_or_path: str | Path) -> ModelSource | None:
    """Classify a model argument without loading it; None if it names no edgesal model."""
    text = str(name_or_path)
    if text in SHIPPED:
        return ModelSource("shipped", text, shipped_path(text))
    if text in list_models():
        return ModelSource("architecture", text)
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix == ".pt":
        return ModelSource("checkpoint", path.stem, path)
    if suffix in ARTEFACT_SUFFIXES or (path.is_dir() and any(path.glob("*.xml"))):
        return ModelSource("artefact", path.name, path)
    return None


def torch_model_names() -> list[str]:
    """Every name :func:`create_model` accepts besides file paths."""
    return sorted(SHIPPED) + list_models()


def create_model(name_or_path: str | Path, *, imgsz: tuple[int, int] | None = None,
                 pretrained_backbone: bool = False) -> TorchModel:
    """Load a shipped model or checkpoint, or build a registered architecture (eval mode).

    ``imgsz`` overrides the input size recorded in the spec (height, width).
    """
    source = model_source(name_or_path)
    if source is None:
        hint = difflib.get_close_matches(str(name_or_path), torch_model_names(), n=1, cutoff=0.7)
        raise EdgesalError(f"unknown model {str(name_or_path)!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                           + " (give a shipped name, an architecture from `edgesal info --list` or a .pt file)")
    if source.kind == "artefact":
        raise EdgesalError(f"{name_or_path} is an exported artefact: it runs in its own runtime, not in torch "
                           "(give a shipped name, an architecture or a .pt checkpoint)")
    if source.kind == "architecture":
        spec = get_spec(source.name)
        model = build_model(spec, pretrained_backbone=pretrained_backbone)
        meta = {"name": source.name, "path": None, "sha256": None}
    else:
        if source.path is None:
            raise EdgesalError(f"shipped model {source.name!r} is not built in this checkout")
        model, spec, meta = load_checkpoint(source.path)
        meta = {**meta, "name": source.name}
    if imgsz:
        spec = spec.with_input_hw(tuple(imgsz))
    return TorchModel(model.eval(), spec, meta)
