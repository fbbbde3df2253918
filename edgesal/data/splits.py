"""Deterministic train / val / test splits, committed manifests, and split views."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError

from .base import SaliencyDataset, Sample
from .notices import warn

SPLIT_NAMES = ("train", "val", "test", "all")
DEFAULT_FRACTIONS = (0.7, 0.15, 0.15)
MANIFEST_DIR = Path(__file__).resolve().parent / "splits"


def make_split(stems: Sequence[str], seed: int = 0,
               fractions: Sequence[float] = DEFAULT_FRACTIONS) -> dict[str, list[str]]:
    """Split stems into {"train", "val", "test"} (each list sorted).

    The stems are sorted, permuted with ``np.random.default_rng(seed)``; the first
    round(f_train·n) go to train, the next round(f_val·n) to val, the rest to test.
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or any(not math.isfinite(f) or f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise EdgesalError(f"split fractions must be three non-negative numbers summing to 1, got {list(fractions)}")
    ordered = sorted(str(s) for s in stems)
    if len(set(ordered)) != len(ordered):
        raise EdgesalError("make_split: duplicate stems")
    n = len(ordered)
    perm = np.random.default_rng(seed).permutation(n)
    shuffled = [ordered[i] for i in perm]
    n_train = min(n, round(fractions[0] * n))
    n_val = min(n - n_train, round(fractions[1] * n))
    return {
        "train": sorted(shuffled[:n_train]),
        "val": sorted(shuffled[n_train:n_train + n_val]),
        "test": sorted(shuffled[n_train + n_val:]),
    }


def manifest_path(name: str) -> Path:
    """Where the committed manifest of dataset ``name`` lives."""
    return MANIFEST_DIR / f"{name}.json"


def load_split_manifest(name: str) -> dict | None:
    """The committed manifest of ``name`` ({dataset, seed, fractions, train, val, test}), or None."""
    path = manifest_path(name)
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        for key in ("train", "val", "test"):
            if not isinstance(manifest[key], list):
                raise TypeError(f"{key} is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EdgesalError(f"broken split manifest {path}: {exc}") from None
    return manifest


def write_split_manifest(dataset: SaliencyDataset, seed: int = 0,
                         fractions: Sequence[float] = DEFAULT_FRACTIONS,
                         out_dir: str | Path | None = None) -> Path:
    """Write ``<out_dir>/<dataset.name>.json`` from :func:`make_split` over all its stems."""
    split = make_split(dataset.stems(), seed=seed, fractions=fractions)
    path = Path(out_dir) / f"{dataset.name}.json" if out_dir is not None else manifest_path(dataset.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = {"dataset": dataset.name, "seed": seed, "fractions": [float(f) for f in fractions], **split}
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return path


def committed_splits(dataset: SaliencyDataset) -> dict[str, list[str]] | None:
    """train / val / test stems fixed in advance: the dataset's official partition, else its
    committed manifest when that lists exactly the dataset's stems; None when there is neither."""
    official = getattr(dataset, "official_splits", None)
    if callable(official):
        return official()
    manifest = load_split_manifest(dataset.name)
    if manifest is None:
        return None
    listed = manifest["train"] + manifest["val"] + manifest["test"]
    if sorted(listed) != sorted(dataset.stems()):
        return None
    return {k: list(manifest[k]) for k in ("train", "val", "test")}


def _resolved_splits(dataset: SaliencyDataset) -> tuple[dict[str, list[str]], bool]:
    """The splits of :func:`dataset_splits` and whether they are seeded (made on the fly)."""
    committed = committed_splits(dataset)
    if committed is not None:
        return committed, False
    if load_split_manifest(dataset.name) is not None:
        warn(
            f"{dataset.name}: split manifest {manifest_path(dataset.name)} does not match the "
            f"{len(dataset.stems())} images on disk; using a fresh seed-0 split instead"
        )
    return make_split(dataset.stems()), True


def dataset_splits(dataset: SaliencyDataset) -> dict[str, list[str]]:
    """train / val / test stems of a dataset: its official partition if it has one, else the
    committed manifest (when it covers exactly the dataset's stems), else :func:`make_split`."""
    return _resolved_splits(dataset)[0]


def default_split(dataset: SaliencyDataset) -> str:
    """The split scored when none is named: the held-out split (``test``, else ``val`` as for
    SALICON) where the dataset has an official or committed split (a model may have trained on
    the rest), else ``all`` (a user's own folder: every image counts; a seeded ``test`` split
    would silently score only 15% of them)."""
    committed = committed_splits(dataset)
    if committed is None:
        return "all"
    return next((key for key in ("test", "val") if committed.get(key)), "all")


class SplitDataset(SaliencyDataset):
    """A view of ``base`` restricted to ``stems`` (other attributes are the base's).

    ``seeded`` is True when the stems come from :func:`make_split` on the fly rather than from
    an official partition or a committed manifest.
    """

    def __init__(self, base: SaliencyDataset, stems: Sequence[str], split_name: str, *,
                 seeded: bool = False) -> None:
        self.base = base
        self.split = split_name
        self.seeded = seeded
        self.name = base.name
        known = set(base.stems())
        unknown = [s for s in stems if s not in known]
        if unknown:
            raise EdgesalError(f"{base.name} split {split_name!r}: {len(unknown)} stem(s) not in the dataset, "
                               f"e.g. {unknown[0]!r}")
        self._stems = list(stems)
        self._stem_set = set(self._stems)

    def _check(self, stem: str) -> None:
        if stem not in self._stem_set:
            raise EdgesalError(f"{stem!r} is not in the {self.split} split of {self.name}")

    def stems(self) -> list[str]:
        return list(self._stems)

    def load(self, stem: str) -> Sample:
        self._check(stem)
        sample = self.base.load(stem)
        sample.meta["split"] = self.split
        return sample

    def image_size(self, stem: str) -> tuple[int, int]:
        self._check(stem)
        return self.base.image_size(stem)

    def fixations_normalised(self, stem: str) -> np.ndarray:
        self._check(stem)
        return self.base.fixations_normalised(stem)

    def __getattr__(self, attr: str):
        if attr.startswith("__") or attr == "base":
            raise AttributeError(attr)
        return getattr(self.base, attr)

    def __repr__(self) -> str:
        return f"SplitDataset({self.name!r}, split={self.split!r}, n={len(self._stems)})"


def apply_split(dataset: SaliencyDataset, split: str | None) -> SaliencyDataset:
    """``dataset`` itself for ``None``, else a :class:`SplitDataset` for the named split."""
    if split is None:
        return dataset
    key = split.strip().lower()
    if key == "all":
        return SplitDataset(dataset, dataset.stems(), "all")
    splits, seeded = _resolved_splits(dataset)
    if key not in splits:
        raise EdgesalError(f"unknown split {split!r} for {dataset.name}; choose one of {', '.join([*splits, 'all'])}")
    return SplitDataset(dataset, splits[key], key, seeded=seeded)
