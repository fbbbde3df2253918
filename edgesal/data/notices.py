"""Warnings raised by the data loaders (one line each, naming the dataset or file)."""

from __future__ import annotations

import warnings


class DataWarning(UserWarning):
    """Something in a dataset was repaired or skipped (clipped points, resized maps, …)."""


def warn(message: str) -> None:
    """Emit a one-line :class:`DataWarning` attributed to the caller of the loader."""
    warnings.warn(message, DataWarning, stacklevel=3)
