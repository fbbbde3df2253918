"""Import optional dependencies with a one-line install hint instead of a traceback."""

from __future__ import annotations

import importlib
from types import ModuleType

from edgesal.errors import EdgesalError


def import_optional(module: str, extra: str, what: str | None = None) -> ModuleType:
    """Import ``module`` or raise EdgesalError naming ``pip install 'edgesal[extra]'``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = what or module.split(".")[0]
        raise EdgesalError(f"{name} is not installed ({exc.name or module}): pip install 'edgesal[{extra}]'") from None
