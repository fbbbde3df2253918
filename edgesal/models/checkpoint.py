"""Save/load edgesal checkpoints: architecture spec + weights + metadata in one ``.pt``.

Loading uses ``torch.load(weights_only=True)``: only tensors, dicts, lists and primitives are
accepted, so a hostile file cannot execute code. Writes are atomic (temp file, then rename).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from edgesal.atomic import atomic_path
from edgesal.errors import EdgesalError
from edgesal.models.channel_config import apply_channel_config
from edgesal.models.registry import ModelSpec, build_model

FORMAT = "edgesal-checkpoint/1"
NEW_CELL_PREFIX = "cell."  # a temporal cell added by ``respec`` (TemporalSaliencyNet.cell) starts untrained


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file (the 'source checkpoint hash' in reports and metadata)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(path: str | Path, model: nn.Module, spec: ModelSpec, meta: dict | None = None,
                    extra: dict | None = None) -> Path:
    """Write spec, state_dict, metadata (and optional training state in ``extra``)."""
    payload = {"format": FORMAT, "spec": spec.to_dict(), "state_dict": model.state_dict(), "meta": meta or {}}
    if extra:
        payload.update(extra)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def read_checkpoint(path: str | Path) -> dict:
    """Load and validate the raw checkpoint dict (weights_only)."""
    path = Path(path)
    if not path.is_file():
        raise EdgesalError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise EdgesalError(f"not a loadable edgesal checkpoint: {path} ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise EdgesalError(f"not an edgesal checkpoint (format {FORMAT!r} expected): {path}")
    return payload


def _spec_of(payload: dict, path: Path) -> ModelSpec:
    """The checkpoint's architecture spec, validated (one-line error naming the file)."""
    try:
        spec = ModelSpec.from_dict(payload["spec"])
        if len(spec.input_hw) != 2 or len(spec.mean) != 3 or len(spec.std) != 3:
            raise ValueError("input_hw needs 2 numbers, mean and std 3")
        return spec
    except (KeyError, TypeError, ValueError) as exc:
        raise EdgesalError(f"checkpoint {path} has an invalid architecture spec ({type(exc).__name__}: "
                           f"{exc})") from None


def load_checkpoint(path: str | Path, respec: Callable[[ModelSpec], ModelSpec] | None = None
                    ) -> tuple[nn.Module, ModelSpec, dict]:
    """Rebuild the model from a checkpoint; returns (model in eval mode, spec, meta).

    ``respec`` changes the stored spec before the model is built (e.g. another input size, or
    a temporal cell added to an image model: the cell's weights are then new, everything else
    is loaded).
    """
    path = Path(path)
    payload = read_checkpoint(path)
    spec = _spec_of(payload, path)
    new_cell = False
    if respec is not None:
        stored, spec = spec, respec(spec)
        new_cell = bool(spec.temporal) and spec.temporal != stored.temporal
    meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise EdgesalError(f"checkpoint {path} has no valid state_dict (a dict of tensors)")
    try:
        model = build_model(spec, pretrained_backbone=False)
        rebuild = meta.get("pruned_channels")
        if rebuild:
            apply_channel_config(model, rebuild)
        missing, unexpected = model.load_state_dict(state, strict=not new_cell)
        if unexpected or any(not k.startswith(NEW_CELL_PREFIX) for k in missing):
            raise RuntimeError(f"missing keys {missing[:3]}, unexpected keys {unexpected[:3]}")
    except EdgesalError as exc:
        raise EdgesalError(f"checkpoint {path}: {exc}") from None
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise EdgesalError(f"checkpoint {path} does not match its architecture: {first}") from None
    model.eval()
    return model, spec, {**meta, "sha256": file_sha256(path), "path": str(path)}
