"""Export progress: one stderr line per stage with its time, e.g. ``[tflite int8] calibrate 200 images … 12.3 s``.

The pipeline opens a :class:`Progress` for the shared work of a run (``[default] …``) and one
per artefact (``[tflite int8] …``) and makes it current with :func:`reporting`; converters
mark their stages with :func:`stage` and the pipeline counts calibration images with
:func:`counted`. Without a current report (a converter called on its own) both do nothing.

On a terminal a stage shows while it runs (with an ``i/N images`` counter where it counts) and
its line is completed with the time; elsewhere (logs, CI, pipes) each stage is one line
written when it ends. A stage that fails ends with ``failed after …``, except on a user error
(:class:`~edgesal.errors.EdgesalError`), whose own one-line message follows instead.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from edgesal.errors import EdgesalError
from edgesal.quiet import terminal_stderr

_CURRENT: ContextVar[Progress | None] = ContextVar("edgesal_export_progress", default=None)
REDRAW_S = 0.2  # at most this often on a terminal


class Progress:
    """Stage lines for one label; ``stream`` defaults to stderr (reachable under fd-level hushing)."""

    def __init__(self, label: str, stream=None, enabled: bool = True):
        self.label, self.enabled = label, enabled
        self.stream = (terminal_stderr() if stream is None else stream) if enabled else None
        self._own = enabled and stream is None and self.stream is not sys.stderr  # a duplicate of fd 2: ours
        self.live = bool(enabled and getattr(self.stream, "isatty", lambda: False)())
        self.times: dict[str, float] = {}  # stage name → seconds (for reports and tests)
        self._stage: str | None = None
        self._count: tuple[int, int] | None = None  # (done, total) of the open stage
        self._drawn = 0.0

    def _text(self, name: str, final: bool = False) -> str:
        if self._count is None:
            return f"[{self.label}] {name}"
        done, total = self._count
        return f"[{self.label}] {name} {total if final else f'{min(done, total)}/{total}'} images"

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _draw(self) -> None:
        if self.live and self._stage is not None:
            self._write(f"\r\x1b[K{self._text(self._stage)} …")
            self._drawn = time.monotonic()

    @contextlib.contextmanager
    def stage(self, name: str, images: int | None = None) -> Iterator[None]:
        """Time the block as stage ``name``; ``images`` = how many images :meth:`tick` will count."""
        if not self.enabled or self._stage is not None:  # nested stages belong to the outer line
            yield
            return
        self._stage, self._count = name, (0, images) if images else None
        start = time.perf_counter()
        self._draw()
        try:
            yield
        except EdgesalError:  # its one-line message says what failed
            self._write("\r\x1b[K" if self.live else "")
            self._stage, self._count = None, None
            raise
        except BaseException:
            self._end(name, f"failed after {time.perf_counter() - start:.1f} s")
            raise
        seconds = time.perf_counter() - start
        self.times[name] = self.times.get(name, 0.0) + seconds
        self._end(name, f"{seconds:.1f} s")

    def _end(self, name: str, result: str) -> None:
        clear = "\r\x1b[K" if self.live else ""
        self._write(f"{clear}{self._text(name, final=True)} … {result}\n")
        self._stage, self._count = None, None

    def note(self, text: str) -> None:
        """One ``[label] text`` line between stages (e.g. why a conversion is repeated)."""
        if self.enabled:
            self._write(f"[{self.label}] {text}\n")

    def tick(self, n: int = 1) -> None:
        """``n`` more images done in the open stage (redrawn on a terminal)."""
        if self._count is None:
            return
        self._count = (self._count[0] + n, self._count[1])
        if self.live and time.monotonic() - self._drawn >= REDRAW_S:
            self._draw()

    def close(self) -> None:
        if self._own and self.stream is not None:
            self.stream.close()
        self.stream = None


@contextlib.contextmanager
def reporting(progress: Progress) -> Iterator[Progress]:
    """Make ``progress`` the current report for :func:`stage` and :func:`counted` in the block."""
    token = _CURRENT.set(progress)
    try:
        yield progress
    finally:
        _CURRENT.reset(token)


def stage(name: str, images: int | None = None):
    """The current report's :meth:`Progress.stage` (a no-op context without one)."""
    current = _CURRENT.get()
    return current.stage(name, images) if current is not None else contextlib.nullcontext()


def note(text: str) -> None:
    """The current report's :meth:`Progress.note` (nothing without one)."""
    current = _CURRENT.get()
    if current is not None:
        current.note(text)


class _Counted(list):
    """A list whose iteration ticks the current report once per item (converters iterate batches)."""

    def __iter__(self):
        for item in super().__iter__():
            current = _CURRENT.get()
            if current is not None:
                current.tick()
            yield item


def counted(items: Iterable) -> list:
    """``items`` as a list that counts iterated items in the current report's open stage."""
    return _Counted(items)



def own_stages(converter):
    """Decorator: ``converter`` opens its own :func:`stage` lines (the pipeline shows any other
    converter as one ``convert`` stage)."""
    converter.reports_stages = True
    return converter


def reports_stages(converter) -> bool:
    """True for a converter marked with :func:`own_stages`."""
    return bool(getattr(converter, "reports_stages", False))
