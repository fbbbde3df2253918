"""Dataset loaders: images, fixations and density maps behind one interface.

``open_dataset("osie", split="test")`` opens a registered dataset (or any folder in a known
layout); every loader returns :class:`Sample` objects (see :mod:`edgesal.data.base`).
"""

# Registration order = auto-detection order (generic first: a fixations.csv wins).
from . import generic, osie, scene, mit1003, cat2000, salicon  # noqa: F401  # isort: skip
from .base import SaliencyDataset, Sample
from .common import FixationDataset
from .density import density_from_fixations, load_density_map
from .images import load_rgb
from .notices import DataWarning
from .registry import list_datasets, open_dataset, register_dataset
from .splits import SplitDataset, make_split, write_split_manifest

__all__ = [
    "DataWarning",
    "FixationDataset",
    "SaliencyDataset",
    "Sample",
    "SplitDataset",
    "density_from_fixations",
    "list_datasets",
    "load_density_map",
    "load_rgb",
    "make_split",
    "open_dataset",
    "register_dataset",
    "write_split_manifest",
]

