"""Video datasets (registered in :mod:`edgesal.data.registry` with ``kind="video"``) and opening them."""

from __future__ import annotations

import os
from pathlib import Path

from edgesal.data.registry import dataset_entry, detect_layout, resolve_dataset_dir
from edgesal.errors import EdgesalError

from . import frame_folders, gaze_files, simulated  # noqa: F401  (registration)
from .base import VideoDataset, frame_sample


def open_video_dataset(name_or_dir: str | os.PathLike, split: str | None = None,
                       sigma_px: float | None = None) -> VideoDataset:
    """A registered video dataset by name, or a folder in a known video layout, restricted to ``split``."""
    text = os.fspath(name_or_dir).strip()
    entry = dataset_entry(text)
    if entry is not None and entry.kind == "video" and "/" not in text:
        dataset = entry.cls(resolve_dataset_dir(entry.name), sigma_px)
    else:
        root = Path(text).expanduser()
        if not root.is_dir():
            raise EdgesalError(f"video dataset not found: {text}")
        dataset = detect_layout(root, kind="video")(root, sigma_px)
    return dataset.select(split)


__all__ = ["VideoDataset", "frame_sample", "open_video_dataset"]
