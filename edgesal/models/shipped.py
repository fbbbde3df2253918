"""Models trained by the edgesal project and committed with the package (no download)."""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CARDS_DIR = Path(__file__).resolve().parent / "cards"

SHIPPED = {
    "default": "default.pt",
    "fast": "fast.pt",
}


def shipped_path(name: str) -> Path | None:
    """Path of a shipped checkpoint, or None if ``name`` is not shipped (or not built yet)."""
    if name not in SHIPPED:
        return None
    path = WEIGHTS_DIR / SHIPPED[name]
    return path if path.exists() else None
