"""Reading MATLAB .mat files with user-facing errors."""

from __future__ import annotations

from pathlib import Path

import scipy.io

from edgesal.errors import EdgesalError


def load_mat(path: Path, variable: str) -> object:
    """One variable of a MATLAB v5 file (``squeeze_me=True, struct_as_record=False``)."""
    try:
        contents = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False, variable_names=[variable])
    except FileNotFoundError:
        raise EdgesalError(f"MATLAB file not found: {path}") from None
    except NotImplementedError:
        raise EdgesalError(f"{path} is a MATLAB v7.3 (HDF5) file; re-save it with -v7 to read it") from None
    except (OSError, ValueError, TypeError) as exc:
        raise EdgesalError(f"cannot read MATLAB file {path}: {' '.join(str(exc).split())}") from None
    if variable not in contents:
        raise EdgesalError(f"{path} has no variable {variable!r}")
    return contents[variable]
