"""Score a predictor (or a folder of precomputed maps) on a dataset split.

Per image, all metrics are computed at the image's own resolution (maps are bilinearly
resized to it). Shuffled-AUC negatives are the fixations of ``SAUC_OTHER_IMAGES`` other
images of the same split (chosen with a fixed seed), rescaled into this image's frame.
The information-gain baseline is the center bias fitted on the dataset's training split.
Maps with negative values are shifted to a minimum of 0 (ranks, AUC, NSS and CC are
unchanged; KL and SIM need non-negative maps). Scores are means over images; ``n_images``
counts them.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from edgesal.data import SaliencyDataset, Sample, open_dataset
from edgesal.errors import EdgesalError
from edgesal.imaging import resize_map
from edgesal.metrics import compute_all, log_likelihood
from edgesal.predictors.base import Predictor
from edgesal.predictors.center_bias import CenterBiasPredictor, center_bias_of, fitted_center_bias

METRIC_KEYS = ("auc_judd", "auc_borji", "sauc", "nss", "cc", "kld", "sim", "ig")
SAUC_OTHER_IMAGES = 10
MapSource = Callable[[Sample], tuple[np.ndarray, np.ndarray | None]]


@dataclass
class EvaluationResult:
    """Mean metrics over images, plus per-image rows."""

    means: dict[str, float]
    n_images: int
    per_image: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {**{k: _finite_or_none(v) for k, v in self.means.items()}, "n_images": self.n_images}


def _finite_or_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def predictor_source(predictor: Predictor) -> MapSource:
    """Map source that runs a predictor on each sample's image."""

    def source(sample: Sample) -> tuple[np.ndarray, np.ndarray | None]:
        saliency = predictor.predict(sample.image)
        log_density = predictor.predict_log_density(sample.image) if predictor.output_kind == "log_density" else None
        return saliency, log_density

    return source


def maps_dir_source(maps_dir: str | Path) -> MapSource:
    """Map source reading ``<stem>.npy`` or ``<stem>.png`` from a folder (any size)."""
    from PIL import Image

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
        try:
            if path.suffix == ".npy":
                saliency = np.load(path, allow_pickle=False).astype(np.float32)
            else:
                saliency = np.asarray(Image.open(path).convert("F"), dtype=np.float32)
        except Exception as exc:  # corrupt file: one line naming it
            raise EdgesalError(f"cannot read map {path}: {exc}") from None
        if saliency.ndim == 3:
            saliency = saliency.squeeze()
        if saliency.ndim != 2:
            raise EdgesalError(f"map {path} must be 2-D, got shape {saliency.shape}")
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


def _shuffled_negatives(dataset: SaliencyDataset, stems: list[str]) -> Callable[[int, tuple[int, int]], np.ndarray | None]:
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


def evaluate(
    data: str,
    source: MapSource,
    split: str | None = "test",
    limit: int | None = None,
    progress: bool = True,
) -> EvaluationResult:
    """Evaluate ``source`` on ``data`` (dataset name or folder) and split."""
    dataset = open_dataset(data, split=split)
    stems = dataset.stems()[:limit] if limit else dataset.stems()
    if not stems:
        raise EdgesalError(f"dataset {data!r} split {split!r} has no images")
    negatives = _shuffled_negatives(dataset, dataset.stems())
    baseline = _baseline_predictor(data, dataset)
    rows = []
    for i, stem in enumerate(tqdm(stems, desc="evaluate", unit="img", disable=not progress)):
        sample = dataset.load(stem)
        saliency, log_density = source(sample)
        if saliency.min() < 0:  # any real-valued map: shift so KL/SIM see a non-negative map
            saliency = saliency - saliency.min()
        row = compute_all(
            saliency,
            sample.fixation_map(),
            sample.density,
            other_fixations=negatives(i, sample.size),
            baseline=baseline.predict(sample.image),
        )
        if log_density is not None:
            row["ll"] = log_likelihood(log_density, sample.fixations)
        row["stem"] = stem
        rows.append(row)
    keys = list(METRIC_KEYS) + (["ll"] if all("ll" in r for r in rows) else [])
    means = {k: float(np.nanmean([r[k] for r in rows])) for k in keys}
    return EvaluationResult(means=means, n_images=len(rows), per_image=rows)
