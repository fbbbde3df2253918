"""OSIE (Xu et al., "Predicting human gaze beyond pixels", JoV 2014): 700 images, 15 observers.

Layout: ``data/stimuli/<stem>.jpg`` (800×600) and ``data/eye/fixations.mat``, a struct
array ``fixations`` with ``img`` (file name) and ``subjects`` (15), each subject with
``fix_x``, ``fix_y`` (1-based pixels, x = column) and ``fix_duration``. Observer id =
subject index (0–14). σ = 24 px: the OSIE code's fixation-map Gaussian
(``params.eye.radius = 24`` in ``src/common/config.m``), ≈ 1° of visual angle (also 0.03 × 800).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError

from .common import ParsedFixationDataset
from .fixation_points import empty_fixations
from .matfiles import load_mat
from .registry import register_dataset

FIXATIONS_MAT = Path("data/eye/fixations.mat")
STIMULI = Path("data/stimuli")


@register_dataset("osie")
class OsieDataset(ParsedFixationDataset):
    """OSIE eye-fixation dataset (parses ``fixations.mat`` once, lazily)."""

    name = "osie"
    px_per_degree = 24.0
    layout = "osie: data/stimuli/*.jpg + data/eye/fixations.mat"

    def __init__(self, root: str | Path, sigma_px: float | None = None, **kwargs) -> None:
        super().__init__(root, sigma_px, **kwargs)
        if not (self.root / FIXATIONS_MAT).is_file():
            raise EdgesalError(f"OSIE fixations not found: {self.root / FIXATIONS_MAT}")

    @classmethod
    def matches(cls, root: Path) -> bool:
        return (root / FIXATIONS_MAT).is_file()

    def _read_points(self) -> dict[str, np.ndarray]:
        mat_path = self.root / FIXATIONS_MAT
        entries = np.atleast_1d(load_mat(mat_path, "fixations"))
        raw: dict[str, np.ndarray] = {}
        try:
            for entry in entries:
                stem = Path(str(entry.img)).stem
                parts = []
                for obs, subject in enumerate(np.atleast_1d(entry.subjects)):
                    xs = np.atleast_1d(np.asarray(subject.fix_x, dtype=np.float64)).ravel()
                    ys = np.atleast_1d(np.asarray(subject.fix_y, dtype=np.float64)).ravel()
                    if len(xs) != len(ys):
                        raise EdgesalError(f"{mat_path}: {stem} subject {obs} has {len(xs)} fix_x but {len(ys)} fix_y")
                    parts.append(np.column_stack([xs - 1.0, ys - 1.0, np.full(len(xs), float(obs))]))
                raw[stem] = np.concatenate(parts) if parts else empty_fixations()
        except AttributeError as exc:
            raise EdgesalError(f"{mat_path}: unexpected structure ({exc}); "
                               "expected fixations(i).img/.subjects") from None
        return raw

    def stems(self) -> list[str]:
        return sorted(self._parse())

    def image_path(self, stem: str) -> Path:
        return self.root / STIMULI / f"{stem}.jpg"
