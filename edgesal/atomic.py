"""Write files atomically: to a temporary sibling, then rename (no half-written outputs)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from edgesal.errors import EdgesalError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename onto ``path`` on success."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise EdgesalError(f"cannot write {path}: {exc.strerror or exc}") from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp_path, path)
    except OSError as exc:
        raise EdgesalError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write text."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def replace_section(text: str, heading: str, section: str) -> str:
    """Markdown ``text`` with the section that starts at the line ``heading`` (up to the next '## '
    heading) replaced by ``section``, or ``section`` appended when there is no such heading."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip("\n") == heading), None)
    if start is None:
        return (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    body = section.rstrip("\n") + ("\n\n" if end < len(lines) else "\n")
    return "".join(lines[:start]) + body + "".join(lines[end:])


def write_section(path: str | Path, heading: str, section: str) -> Path:
    """Atomically write one '## ' section of a Markdown file, keeping every other section as it was."""
    path = Path(path)
    return write_text(path, replace_section(path.read_text() if path.exists() else "", heading, section))


def write_json(path: str | Path, obj: object) -> Path:
    """Atomically write JSON (indent 2, keys in insertion order)."""
    return write_text(path, json.dumps(obj, indent=2) + "\n")
