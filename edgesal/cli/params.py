"""Validated CLI parameter types: the one place where ranges and output paths are checked.

Every command takes its numbers and output paths through these types, so a bad value is a
one-line ``error:`` (exit 2) before anything is loaded or written, never a traceback later.
"""

from __future__ import annotations

import os
from pathlib import Path

import click


class FiniteFloatRange(click.FloatRange):
    """A ``click.FloatRange`` that also rejects nan and ±inf (click's lets nan pass every bound)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not abs(number) < float("inf"):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


#: counts that must be ≥ 1 (threads, batch, epochs, runs, images, steps)
POSITIVE_INT = click.IntRange(min=1)
#: counts that may be 0 (warm-up runs, fine-tuning steps, seeds)
NON_NEGATIVE_INT = click.IntRange(min=0)
#: fractions and correlation thresholds
UNIT_INTERVAL = FiniteFloatRange(0.0, 1.0)
#: fractions that must stay below 1 (a pruning floor, SGD momentum)
FRACTION_BELOW_ONE = FiniteFloatRange(0.0, 1.0, max_open=True)
#: non-negative real numbers (KL, |Δ| thresholds, learning rates, weight decay)
NON_NEGATIVE_FLOAT = FiniteFloatRange(min=0.0)
#: strictly positive real numbers (FPS targets, learning rates)
POSITIVE_FLOAT = FiniteFloatRange(min=0.0, min_open=True)
#: smallest input side accepted anywhere: the backbones downsample by 32
MIN_INPUT_SIDE = 32
#: largest input side accepted (a typo like 19200 would exhaust memory instead of failing)
MAX_INPUT_SIDE = 8192
IMAGE_SIDE = click.IntRange(MIN_INPUT_SIDE, MAX_INPUT_SIDE)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_folder(path: Path) -> str | None:
    """Why ``path`` cannot be (or become) a writable folder, or None when it can."""
    if path.exists() and not path.is_dir():
        return f"{path} is a file, not a folder"
    base = _nearest_existing(path.resolve())
    if not base.is_dir():
        return f"cannot create {path}: {base} is a file, not a folder"
    if not os.access(base, os.W_OK | os.X_OK):
        return f"{base} is not writable"
    return None


def check_output_file(path: Path) -> str | None:
    """Why ``path`` cannot be written as a file, or None when it can."""
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    return check_output_folder(path.parent)


class CheckedPath(click.ParamType):
    """A path checked by ``problem(path)`` (None when fine, else the reason) before the run."""

    def __init__(self, name: str, problem) -> None:
        self.name = name
        self.problem = problem

    def convert(self, value, param, ctx):
        path = Path(os.path.expanduser(str(value)))
        problem = self.problem(path)
        if problem:
            self.fail(problem, param, ctx)
        return str(path)


#: a folder that exists or can be created and is writable
OUTPUT_FOLDER = CheckedPath("folder", check_output_folder)
#: a file path whose folder exists or can be created (not an existing folder)
OUTPUT_FILE = CheckedPath("file", check_output_file)


def input_folder_problem(what: str):
    """A ``CheckedPath`` check for an existing folder to read; ``what`` names it in the error."""

    def problem(path: Path) -> str | None:
        if not path.exists():
            return f"{what} not found: {path}"
        return None if path.is_dir() else f"{path} is a file, not a folder"

    return problem


def input_folder(what: str = "folder") -> CheckedPath:
    """An existing folder to read, checked at parse time."""
    return CheckedPath("folder", input_folder_problem(what))


#: the names of edgesal.predictors.flip.TTA_MODES (not imported: it would load torch at every CLI start)
TTA_CHOICES = ("none", "hflip")
tta_option = click.option(
    "--tta", default="none", show_default=True, type=click.Choice(TTA_CHOICES),
    help="test-time augmentation: hflip averages the maps of the image and its mirror image (2x the time)")
