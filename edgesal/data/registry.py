"""Dataset names → loader classes, and opening a dataset by name or folder."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgesal.errors import EdgesalError
from edgesal.paths import shared_roots

from .base import SaliencyDataset


@dataclass(frozen=True)
class DatasetEntry:
    """A registered loader: its class, default folder name, whether it auto-detects, and its kind
    (``"image"``: a :class:`SaliencyDataset`; ``"video"``: an ``edgesal.video`` dataset)."""

    name: str
    cls: type
    folder: str
    autodetect: bool
    kind: str = "image"


_REGISTRY: dict[str, DatasetEntry] = {}


def register_dataset(name: str, *, folder: str | None = None, autodetect: bool = True,
                     kind: str = "image") -> Callable[[type], type]:
    """Class decorator: make a loader available as ``open_dataset(name)``.

    ``folder`` is the directory name looked up under the data roots (default: ``name``);
    ``autodetect`` lets :func:`open_dataset` pick this class for a folder whose layout its
    ``matches(root)`` classmethod recognises; ``kind`` is ``"image"`` or ``"video"``.
    """
    key = name.lower()

    def decorate(cls: type) -> type:
        _REGISTRY[key] = DatasetEntry(key, cls, folder or key, autodetect, kind)
        return cls

    return decorate


def list_datasets(kind: str | None = "image") -> list[str]:
    """Registered dataset names of ``kind`` (``None``: every kind), sorted."""
    return sorted(n for n, e in _REGISTRY.items() if kind is None or e.kind == kind)


def dataset_entry(name: str) -> DatasetEntry | None:
    """The registry entry of dataset ``name`` (any kind, case-insensitive), or None."""
    return _REGISTRY.get(name.strip().lower())


def env_var(name: str) -> str:
    """The environment variable that points at dataset ``name`` (``EDGESAL_DATA_OSIE``)."""
    return "EDGESAL_DATA_" + "".join(c if c.isalnum() else "_" for c in name.upper())


def candidate_dirs(name: str) -> list[Path]:
    """Where a named dataset is looked for, in order (the env var itself is handled apart)."""
    entry = _REGISTRY[name]
    folders = [entry.folder] + ([name] if name != entry.folder else [])
    roots: list[Path] = []
    if os.environ.get("EDGESAL_DATA"):
        roots.append(Path(os.environ["EDGESAL_DATA"]).expanduser())
    # $EDGESAL_SHARED/data, ./../shared/data, <repo>/../shared/data
    roots += [shared / "data" for shared in shared_roots()]
    out: list[Path] = []
    for root in roots:
        for folder in folders:
            path = root / folder
            if path not in out:
                out.append(path)
    return out


def resolve_dataset_dir(name: str) -> Path:
    """Directory of a registered dataset: ``$EDGESAL_DATA_<NAME>``, ``$EDGESAL_DATA/<folder>``,
    then ``<shared>/data/<folder>`` for ``$EDGESAL_SHARED``, ``./../shared`` and
    ``<repository>/../shared``."""
    var = env_var(name)
    if os.environ.get(var):
        path = Path(os.environ[var]).expanduser()
        if not path.is_dir():
            raise EdgesalError(f"{var}={os.environ[var]} is not a directory")
        return path
    candidates = candidate_dirs(name)
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    looked = ", ".join(str(p) for p in candidates)
    raise EdgesalError(
        f"dataset {name!r} not found (looked in {looked}); set {var}=/path/to/{_REGISTRY[name].folder} "
        f"or EDGESAL_DATA=/folder/holding/datasets"
    )


def detect_layout(root: Path, kind: str | None = "image") -> type:
    """The loader class of ``kind`` (``None``: any) whose layout ``root`` matches, in registration order."""
    entries = [e for e in _REGISTRY.values() if e.autodetect and (kind is None or e.kind == kind)]
    for entry in entries:
        if entry.cls.matches(root):
            return entry.cls
    expected = "; ".join(e.cls.layout for e in entries if e.cls.layout)
    raise EdgesalError(f"{root}: unrecognised dataset layout; expected one of: {expected}")


def _looks_like_path(text: str) -> bool:
    return any(sep in text for sep in ("/", "\\")) or text.startswith((".", "~"))


def dataset_kind(name_or_dir: str | os.PathLike) -> str | None:
    """``"image"`` or ``"video"`` for a registered name or a folder in a known layout, else None."""
    text = os.fspath(name_or_dir).strip()
    entry = _REGISTRY.get(text.lower()) or next(
        (e for e in _REGISTRY.values() if e.folder.lower() == text.lower()), None)
    if entry is not None and not _looks_like_path(text):
        return entry.kind
    root = Path(text).expanduser()
    if text and root.is_dir():
        return next((e.kind for e in _REGISTRY.values() if e.autodetect and e.cls.matches(root)), None)
    return None


def _unknown_name(text: str) -> EdgesalError:
    names = list_datasets(kind=None)
    close = difflib.get_close_matches(text.lower(), names, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    return EdgesalError(f"unknown dataset {text!r}{hint} Known: {', '.join(names)} (or pass a dataset folder)")


def open_dataset(name_or_dir: str | os.PathLike, split: str | None = None,
                 sigma_px: float | None = None) -> SaliencyDataset:
    """Open a dataset by registered name (``osie``, ``scene``, ``eyecrowd``, …) or by folder.

    A folder's format is auto-detected. ``split`` (``train``/``val``/``test``/``all``)
    returns a :class:`~edgesal.data.splits.SplitDataset` view; ``None`` the whole dataset.
    ``sigma_px`` overrides the density σ of point-built density maps.
    """
    from .splits import apply_split

    text = os.fspath(name_or_dir).strip()
    if not text:
        raise EdgesalError("the dataset name or folder is empty")
    key = text.lower()
    by_folder = {e.folder.lower(): n for n, e in _REGISTRY.items()}
    if not _looks_like_path(text) and (key in _REGISTRY or key in by_folder):
        name = key if key in _REGISTRY else by_folder[key]
        if _REGISTRY[name].kind != "image":
            raise EdgesalError(f"{name!r} is a {_REGISTRY[name].kind} dataset: use it where video data is "
                               "accepted (edgesal evaluate, edgesal.video.open_video_dataset)")
        dataset = _REGISTRY[name].cls(resolve_dataset_dir(name), sigma_px)
    else:
        root = Path(text).expanduser()
        if root.is_dir():
            cls = detect_layout(root)
            dataset = cls(root, sigma_px)
        elif _looks_like_path(text) or root.suffix:
            raise EdgesalError(f"dataset directory not found: {root}")
        else:
            raise _unknown_name(text)
    return apply_split(dataset, split)
