"""The runner bundle: :mod:`edgesal.runtimes` zipped into one file a device's Python runs.

``python edgesal-runner.pyz`` (a standard zipapp) runs :func:`edgesal.runtimes.runner.main`
from the package copied in as ``edgesal_runtimes``, so a board gets the same session code
that runs in-process, without an edgesal install. Stored uncompressed (no zlib needed) with
fixed timestamps: the same sources give the same bytes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import edgesal.runtimes as layer

BUNDLE_NAME = "edgesal-runner.pyz"
PACKAGE = "edgesal_runtimes"  # the layer's name inside the bundle (it imports itself relatively)
MAIN = f"import sys\nfrom {PACKAGE}.runner import main\n\nsys.exit(main())\n"
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _add(archive: zipfile.ZipFile, name: str, text: str) -> None:
    archive.writestr(zipfile.ZipInfo(name, date_time=_EPOCH), text)


def build_bundle(folder: Path) -> Path:
    """Write ``folder/edgesal-runner.pyz`` (the runtime layer + a ``__main__``); its path."""
    path = folder / BUNDLE_NAME
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        _add(archive, "__main__.py", MAIN)
        for source in sorted(Path(layer.__file__).parent.glob("*.py")):
            _add(archive, f"{PACKAGE}/{source.name}", source.read_text())
    return path
