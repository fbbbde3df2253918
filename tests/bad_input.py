"""Harness of the bad-input suite (``tests/test_bad_input*.py``): command × bad input → outcome.

A :class:`Case` is one CLI invocation in a fresh *world* folder holding good inputs (a
small image folder, a tiny checkpoint, a generic dataset, an earlier output). :func:`run_case`
runs it in-process and checks what every bad input must give: the expected exit code, one
``error:`` line on stderr naming the problem (a regex), no traceback, nothing new written
(or only what the case allows) and every file that was there before byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from edgesal.cli.main import main


@dataclass
class Case:
    """One invocation; ``{w}`` in ``argv`` is the world folder, ``{ckpt}`` the tiny checkpoint."""

    id: str
    argv: list[str]
    error: str  # regex the single error line must match (case-insensitive)
    setup: Callable[[World], None] | None = None  # makes the bad input inside the world
    code: int = 2
    may_write: tuple[str, ...] = ()  # globs (relative to the world) a partial run may create
    changes: tuple[str, ...] = ()  # globs of files the case is allowed to change


@dataclass
class World:
    root: Path
    ckpt: Path
    files: dict[str, str] = field(default_factory=dict)


def make_image(path: Path, size_hw: tuple[int, int] = (40, 56), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((rng.random((*size_hw, 3)) * 255).astype(np.uint8)).save(path)
    return path


def build_world(root: Path, ckpt: Path, dataset: Path) -> World:
    """Good inputs every case may point at: ``imgs/`` (3 images), ``data/`` (generic dataset),
    ``out/earlier.png`` (an earlier result that must survive) and the checkpoint."""
    import shutil

    for i in range(3):
        make_image(root / "imgs" / f"im{i}.png", seed=i)
    shutil.copytree(dataset, root / "data")
    make_image(root / "out" / "earlier.png", seed=9)
    (root / "notes.txt").write_text("not an image\n")
    return World(root, ckpt)


def write_file(rel: str, data: bytes | str) -> Callable[[World], None]:
    """A case setup that writes ``data`` to ``rel`` inside the world (folders created)."""

    def setup(world: World) -> None:
        path = world.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)

    return setup


def snapshot(root: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under ``root``."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _matches(name: str, globs: tuple[str, ...]) -> bool:
    return any(Path(name).match(g) or re.fullmatch(g.replace("*", ".*"), name) for g in globs)


def run_case(case: Case, world: World, capsys) -> str:
    """Run ``case`` in ``world``; assert the bad-input contract; return the error line."""
    if case.setup:
        case.setup(world)
    before = snapshot(world.root)
    argv = [a.format(w=world.root, ckpt=world.ckpt) for a in case.argv]
    capsys.readouterr()
    rc = main(argv)
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err + captured.out, f"{case.id}: traceback\n{err}"
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert rc == case.code, f"{case.id}: exit code {rc}, expected {case.code}\nstderr: {err}\nstdout: {captured.out}"
    assert len(errors) == 1, f"{case.id}: expected one 'error:' line, got {errors!r}\n{err}"
    assert re.search(case.error, errors[0], re.IGNORECASE), f"{case.id}: {errors[0]!r} does not match {case.error!r}"
    after = snapshot(world.root)
    changed = [k for k in before if k in after and before[k] != after[k] and not _matches(k, case.changes)]
    lost = [k for k in before if k not in after]
    new = [k for k in after if k not in before and not _matches(k, case.may_write)]
    assert not lost, f"{case.id}: files removed: {lost}"
    assert not changed, f"{case.id}: files changed: {changed}"
    assert not new, f"{case.id}: files written: {new}"
    return errors[0]
