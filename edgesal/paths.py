"""Where edgesal looks for the optional ``../shared`` folder of data and weights."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_roots() -> list[Path]:
    """Candidate ``shared`` folders: $EDGESAL_SHARED, ./../shared, <repo>/../shared."""
    roots = []
    if os.environ.get("EDGESAL_SHARED"):
        roots.append(Path(os.environ["EDGESAL_SHARED"]))
    roots += [Path.cwd().parent / "shared", REPO_ROOT.parent / "shared"]
    return roots


def shared_path(*parts: str) -> Path | None:
    """First existing ``<shared>/<parts>`` or None."""
    for root in shared_roots():
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    return None
