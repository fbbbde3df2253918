"""Calibration images for int8 export: any folder of images, preprocessed like inference.

Each image is resized to the model's input size (bilinear), scaled to RGB [0, 1] and
normalised ``(x − mean) / std`` by :func:`edgesal.predictors.torch_model.preprocess`, the
function the torch predictor uses. Unreadable images are skipped and counted. The default
set ships inside the package (``edgesal/assets/calibration``: 200 OSIE training images, MIT
licence); see ``calibration/README.md`` for building a set from a dataset's training split.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgesal.data.images import ANY_IMAGE_SUFFIXES, find_images
from edgesal.errors import EdgesalError
from edgesal.export.progress import counted, stage

MIN_RECOMMENDED = 100
DEFAULT_DIR = Path(__file__).resolve().parents[1] / "assets" / "calibration"  # package data


@dataclass
class CalibrationSet:
    """Preprocessed (1, 3, H, W) float32 batches and what was read or skipped."""

    batches: list[np.ndarray]
    paths: list[Path]
    skipped: list[Path] = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return len(self.batches)


def list_calibration_images(folder: str | Path) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted); error if missing or empty."""
    folder = Path(folder)
    if not folder.is_dir():
        raise EdgesalError(f"calibration folder not found: {folder}")
    images = find_images(folder)
    if not images:
        raise EdgesalError(f"no images ({', '.join(ANY_IMAGE_SUFFIXES)}) in calibration folder {folder}")
    return images


def default_calibration_dir() -> Path:
    """The bundled default set; error if this checkout does not have it."""
    if not DEFAULT_DIR.is_dir():
        raise EdgesalError(f"default calibration set not found at {DEFAULT_DIR}: pass --calib DIR")
    return DEFAULT_DIR


def load_calibration(folder: str | Path | None, input_hw: tuple[int, int], mean, std,
                     max_images: int | None = None) -> CalibrationSet:
    """Read and preprocess up to ``max_images`` images (all by default).

    Warns (``UserWarning``) under :data:`MIN_RECOMMENDED` usable images and when images
    were skipped; raises when none is usable.
    """
    from edgesal.data.images import load_rgb
    from edgesal.predictors.torch_model import preprocess

    folder = Path(folder) if folder is not None else default_calibration_dir()
    paths = list_calibration_images(folder)[:max_images]
    batches, used, skipped = [], [], []
    with stage("read calibration", len(paths)):
        for path in counted(paths):
            try:
                image = load_rgb(path)
            except EdgesalError:
                skipped.append(path)
                continue
            batches.append(preprocess(image, input_hw, mean, std).numpy())
            used.append(path)
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable calibration image(s) in {folder}", stacklevel=2)
    if not batches:
        raise EdgesalError(f"no readable calibration images in {folder} ({len(skipped)} skipped)")
    if len(batches) < MIN_RECOMMENDED:
        warnings.warn(f"only {len(batches)} calibration images in {folder}; "
                      f"{MIN_RECOMMENDED}+ give more stable int8 ranges", stacklevel=2)
    return CalibrationSet(batches, used, skipped, str(folder))


def build_calibration_set(data: str, split: str, n: int, out: str | Path, seed: int = 0) -> list[Path]:
    """Copy ``n`` images drawn at random (seeded) from a dataset split into ``out``."""
    from edgesal.data import open_dataset

    if split.strip().lower() == "test":
        raise EdgesalError("calibrate on a training split, not 'test': the parity gate evaluates on test")
    dataset = open_dataset(data, split=split)
    stems = dataset.stems()
    if not stems:
        raise EdgesalError(f"{data} split {split!r} has no images")
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(stems), size=min(n, len(stems)), replace=False))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    image_path = getattr(dataset, "image_path", None)  # avoids building density maps
    for i in chosen:
        source = Path(image_path(stems[i]) if image_path else dataset.load(stems[i]).image_path)
        target = out / f"{stems[i]}{source.suffix.lower()}"
        shutil.copyfile(source, target)
        written.append(target)
    return written
