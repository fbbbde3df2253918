"""Models trained by the edgesal project and committed with the package (no download)."""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CARDS_DIR = Path(__file__).resolve().parent / "cards"

SHIPPED = {
    "default": "default.pt",
    "fast": "fast.pt",
    "nano": "nano.pt",
    "video": "video.pt",
}


def shipped_path(name: str) -> Path | None:
    """Path of a shipped checkpoint, or None if ``name`` is not shipped (or not built yet)."""
    if name not in SHIPPED:
        return None
    path = WEIGHTS_DIR / SHIPPED[name]
    return path if path.exists() else None


def ship_checkpoint(source: Path | str, name: str, head_options: dict | None = None) -> Path:
    """Copy a trained checkpoint into the package as ``name``, weights stored in float16.

    Halves the committed size; weights are cast back to float32 when loaded (the output
    change is checked by ``tests/test_shipped.py``). ``head_options`` are merged into the
    spec's head options, e.g. ``{"output_stride": 4}`` (options that change no weight shape).
    """
    import torch

    from edgesal.atomic import atomic_path
    from edgesal.models.checkpoint import read_checkpoint

    payload = read_checkpoint(source)
    if head_options:
        payload["spec"] = {**payload["spec"], "head_kwargs": {**payload["spec"].get("head_kwargs", {}),
                                                              **head_options}}
    payload["state_dict"] = {k: (v.half() if v.is_floating_point() else v) for k, v in payload["state_dict"].items()}
    keep = ("format", "spec", "state_dict", "meta")
    target = WEIGHTS_DIR / SHIPPED[name]
    with atomic_path(target) as tmp:
        torch.save({k: payload[k] for k in keep}, tmp)
    return target
