"""Where the optional ../shared data and weights are, and a skip helper for tests needing them.

(A module of its own, not conftest: ``device_tests/`` has a conftest too, and two modules
named ``conftest`` clash on import.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_or_skip(*parts: str) -> Path:
    """Path inside ../shared, or skip the test saying what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the ../shared data/weights folder beside the repository)")
    return path
