"""Score a predictor (or a folder of precomputed maps) on a dataset split.

Without a named split, a dataset with an official or committed split scores its held-out
split (``test``; ``val`` for SALICON); any other dataset (a user's own folder) scores all its
images (see :func:`edgesal.data.splits.default_split`). ``n_images`` of ``n_total`` images
are scored.

Per image, all metrics are computed at the image's own resolution (maps are bilinearly
resized to it). Shuffled-AUC negatives are the fixations of ``SAUC_OTHER_IMAGES`` other
images of the same split (chosen with a fixed seed), rescaled into this image's frame.
The information-gain baseline is the center bias fitted on the dataset's training split.
Maps with negative values are shifted to a minimum of 0 (ranks, AUC, NSS and CC are
unchanged; KL and SIM need non-negative maps). A map with NaN/inf values, or that is not a
non-empty 2-D array of numbers, is an error naming its file or image, never a silent score.
Scores are means over images; ``n_images`` counts them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edgesal.data import SaliencyDataset, Sample, SplitDataset, open_dataset
from edgesal.data.splits import apply_split, default_split
from edgesal.errors import EdgesalError
from edgesal.imaging import resize_map
from edgesal.metrics import MetricInputError, compute_all, log_likelihood
from edgesal.predictors.base import Predictor
from edgesal.predictors.center_bias import CenterBiasPredictor, center_bias_of, fitted_center_bias

METRIC_KEYS = ("auc_judd", "auc_borji", "sauc", "nss", "cc", "kld", "sim", "ig")
SAUC_OTHER_IMAGES = 10
MapSource = Callable[[Sample], tuple[np.ndarray, np.ndarray | None]]


@dataclass
class EvaluationResult:
    """Mean metrics over images, plus per-image rows.

    ``n_images`` images were scored, of the ``n_total`` in the whole dataset; ``split`` is the
    split scored and ``split_seeded`` whether it was made on the fly with a seed (the dataset
    has no official or committed split) rather than fixed in advance.
    """

    means: dict[str, float]
    n_images: int
    per_image: list[dict] = field(default_factory=list)
    n_total: int | None = None
    split: str | None = None
    split_seeded: bool = False

    def to_json(self) -> dict:
        return {**{k: _finite_or_none(v) for k, v in self.means.items()}, "n_images": self.n_images,
                "n_total": self.n_total, "split": self.split, "split_seeded": self.split_seeded}


def _finite_or_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def checked_map(saliency, what: str) -> np.ndarray:
    """``saliency`` as float32 if it is a non-empty, finite 2-D array of real numbers, else an
    error naming ``what`` (e.g. ``map /x/y.npy``). Constant maps are valid (they score at chance)."""
    arr = np.asarray(saliency)
    if arr.dtype.kind not in "biuf":
        raise EdgesalError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise EdgesalError(f"{what} must be 2-D, got shape {arr.shape}")
    if arr.size == 0:
        raise EdgesalError(f"{what} is empty (shape {arr.shape})")
    arr = arr.astype(np.float32)
    if np.isnan(arr).any():
        raise EdgesalError(f"{what} has NaN values")
    if not np.isfinite(arr).all():
        raise EdgesalError(f"{what} has infinite values (or values too large for float32)")
    return arr


def predictor_source(predictor: Predictor) -> MapSource:
    """Map source that runs a predictor on each sample's image."""

    def source(sample: Sample) -> tuple[np.ndarray, np.ndarray | None]:
        saliency = checked_map(predictor.predict(sample.image), f"{predictor.name} map of image {sample.image_path}")
        log_density = predictor.predict_log_density(sample.image) if predictor.output_kind == "log_density" else None
        return saliency, log_density

    return source


def maps_dir_source(maps_dir: str | Path) -> MapSource:
    """Map source reading ``<stem>.npy`` or ``<stem>.png`` from a folder (any size)."""
    maps_dir = Path(maps_dir)
    if not maps_dir.is_dir():
        raise EdgesalError(f"maps folder not found: {maps_dir}")
    resized = {"count": 0}

    def source(sample: Sample) -> tuple[np.ndarray, None]:
        for suffix in (".npy", ".png", ".jpg"):
            path = maps_dir / f"{sample.stem}{suffix}"
            if path.exists():
                break
        else:
            raise EdgesalError(f"no map for image {sample.stem!r} in {maps_dir} (expected {sample.stem}.npy or .png)")
        saliency = _read_map(path)
        if saliency.shape != sample.size:
            if resized["count"] == 0:
                warnings.warn(
                    f"map {path.name} is {saliency.shape[1]}×{saliency.shape[0]}, image is "
                    f"{sample.size[1]}×{sample.size[0]}: resizing maps to image size", stacklevel=2
                )
            resized["count"] += 1
            saliency = resize_map(saliency, sample.size)
        return saliency, None

    return source


def _read_map(path: Path) -> np.ndarray:
    """A map file (.npy, or an image read as grey levels) as a checked float32 (H, W) array."""
    from PIL import Image

    try:
        if path.suffix == ".npy":
            raw = np.load(path, allow_pickle=False)  # a pickle / object array is refused here
        else:
            with Image.open(path) as im:
                raw = np.asarray(im.convert("F"), dtype=np.float32)
    except Exception as exc:  # corrupt file: one line naming it
        raise EdgesalError(f"cannot read map {path}: {' '.join(str(exc).split())}") from None
    if getattr(raw, "ndim", 0) == 3:
        raw = raw.squeeze()
    return checked_map(raw, f"map {path}")


def _shuffled_negatives(dataset: SaliencyDataset,
                        stems: list[str]) -> Callable[[int, tuple[int, int]], np.ndarray | None]:
    """For image i: fixations of other images of the split in i's pixel frame."""
    normalised = [dataset.fixations_normalised(s) for s in stems]

    def negatives(i: int, size_hw: tuple[int, int]) -> np.ndarray:
        others = [j for j in range(len(stems)) if j != i]
        if not others:
            return None
        rng = np.random.default_rng(i)
        chosen = rng.choice(others, size=min(SAUC_OTHER_IMAGES, len(others)), replace=False)
        pts = np.concatenate([normalised[j] for j in chosen])
        h, w = size_hw
        xs = np.clip(np.rint(pts[:, 0] * w), 0, w - 1).astype(int)
        ys = np.clip(np.rint(pts[:, 1] * h), 0, h - 1).astype(int)
        return np.stack([xs, ys], axis=1)

    return negatives


def _baseline_predictor(data: str, dataset: SaliencyDataset) -> CenterBiasPredictor:
    """Center bias fitted on the training split (falls back to the evaluated images)."""
    try:
        return fitted_center_bias(data)
    except EdgesalError:
        return center_bias_of(dataset)


def _score(sample: Sample, saliency: np.ndarray, log_density: np.ndarray | None,
           other_fixations: np.ndarray | None, baseline: np.ndarray) -> dict:
    """All metrics of one image; a metric input error names the image."""
    if saliency.min() < 0:  # any real-valued map: shift so KL/SIM see a non-negative map
        saliency = saliency - saliency.min()
    try:
        row = compute_all(saliency, sample.fixation_map(), sample.density,
                          other_fixations=other_fixations, baseline=baseline)
        if log_density is not None:
            row["ll"] = log_likelihood(log_density, sample.fixations)
    except MetricInputError as exc:
        raise EdgesalError(f"cannot score image {sample.image_path}: {exc}") from None
    row["stem"] = sample.stem
    return row


def open_split(data: str, split: str | None) -> tuple[SplitDataset, int]:
    """The split of ``data`` to score (``None``: :func:`~edgesal.data.splits.default_split`)
    and how many images the whole dataset has."""
    base = open_dataset(data)
    view = apply_split(base, default_split(base) if split is None else split)
    return view, len(base.stems())


def evaluate(
    data: str,
    source: MapSource,
    split: str | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> EvaluationResult:
    """Evaluate ``source`` on ``data`` (dataset name or folder) and ``split``.

    ``split=None`` scores the held-out split of a dataset with an official or committed split,
    else all images; ``limit`` (≥ 1) keeps only the first ``limit`` images of the split.
    """
    if limit is not None and limit < 1:
        raise EdgesalError(f"limit must be at least 1 (the number of images to score), got {limit}")
    dataset, n_total = open_split(data, split)
    stems = dataset.stems()[:limit]
    if not stems:
        raise EdgesalError(f"dataset {data!r} split {dataset.split!r} has no images")
    negatives = _shuffled_negatives(dataset, dataset.stems())
    baseline = _baseline_predictor(data, dataset)
    rows = []
    for i, stem in enumerate(tqdm(stems, desc="evaluate", unit="img", disable=not progress)):
        sample = dataset.load(stem)
        saliency, log_density = source(sample)
        rows.append(_score(sample, saliency, log_density, negatives(i, sample.size), baseline.predict(sample.image)))
    keys = list(METRIC_KEYS) + (["ll"] if all("ll" in r for r in rows) else [])
    means = {k: float(np.nanmean([r[k] for r in rows])) for k in keys}
    return EvaluationResult(means=means, n_images=len(rows), per_image=rows, n_total=n_total,
                            split=dataset.split, split_seeded=dataset.seeded)
