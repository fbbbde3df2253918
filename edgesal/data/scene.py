"""Scene (Liang et al., "Saliency prediction with scene structural guidance", 2015): 500 images.

Layout: ``data/stimuli/001.jpg … 500.jpg`` (varying sizes, kept native) and
``data/tidy/fixations.mat``: variable ``fixations``, a 500×12 cell array (image × subject
slot, some empty). Each cell is N×4: **row, column** (i.e. y, x), onset, duration.

Coordinate base: the points span (0, W) × (0, H) — all 43,894 fall strictly inside
0 < v < size. Read as MATLAB 1-based pixel indices (like OSIE from the same lab) only 2
points lie off the image (below 0.5: 0-based x = −0.93 and −0.69); read as 0-based, 9 lie
past the last pixel. We use 1-based (subtract 1); the 2 points are more than half a pixel off
the image, so they are dropped (one warning) and counted in ``n_dropped``. Observer id =
subject slot (0–11). σ = 0.03 × image width (viewing geometry unknown).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError

from .common import ParsedFixationDataset
from .fixation_points import empty_fixations
from .images import find_image
from .matfiles import load_mat
from .registry import register_dataset

FIXATIONS_MAT = Path("data/tidy/fixations.mat")
STIMULI = Path("data/stimuli")


@register_dataset("scene")
class SceneDataset(ParsedFixationDataset):
    """Scene saliency dataset (parses ``fixations.mat`` once, lazily)."""

    name = "scene"
    layout = "scene: data/stimuli/001.jpg… + data/tidy/fixations.mat"

    def __init__(self, root: str | Path, sigma_px: float | None = None, **kwargs) -> None:
        super().__init__(root, sigma_px, **kwargs)
        if not (self.root / FIXATIONS_MAT).is_file():
            raise EdgesalError(f"Scene fixations not found: {self.root / FIXATIONS_MAT}")

    @classmethod
    def matches(cls, root: Path) -> bool:
        return (root / FIXATIONS_MAT).is_file()

    def _read_points(self) -> dict[str, np.ndarray]:
        mat_path = self.root / FIXATIONS_MAT
        cells = load_mat(mat_path, "fixations")
        cells = np.asarray(cells, dtype=object)
        if cells.ndim == 1:
            cells = cells[:, None]
        if cells.ndim != 2:
            raise EdgesalError(f"{mat_path}: expected an images × subjects cell array, got shape {cells.shape}")
        raw: dict[str, np.ndarray] = {}
        for i in range(cells.shape[0]):
            stem = f"{i + 1:03d}"
            path = find_image(self.root / STIMULI, stem)
            if path is None:
                raise EdgesalError(f"{mat_path} row {i + 1}: image {self.root / STIMULI / stem}.jpg not found")
            self._paths[stem] = path
            parts = []
            for obs in range(cells.shape[1]):
                cell = np.asarray(cells[i, obs], dtype=np.float64)
                if cell.size == 0:
                    continue
                cell = np.atleast_2d(cell)
                if cell.shape[1] < 2:
                    raise EdgesalError(f"{mat_path}: cell ({i + 1}, {obs + 1}) has {cell.shape[1]} column(s), "
                                       "expected row, col, …")
                rows, cols = cell[:, 0], cell[:, 1]
                parts.append(np.column_stack([cols - 1.0, rows - 1.0, np.full(len(cell), float(obs))]))
            raw[stem] = np.concatenate(parts) if parts else empty_fixations()
        return raw
