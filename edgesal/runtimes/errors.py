"""The one error type of the runtime layer.

Inside edgesal it is :class:`edgesal.errors.EdgesalError` itself, so a runtime failure is a
one-line user error like any other; on a device, where only this layer is shipped (no
edgesal install), it is a plain ``Exception`` subclass that the runner turns into one line.
"""

try:  # the only name this layer takes from edgesal, and only when edgesal is there
    from edgesal.errors import EdgesalError
except ImportError:  # on a device

    class EdgesalError(Exception):  # type: ignore[no-redef]
        """A runtime failure worded for the user (one line)."""

        exit_code = 2


__all__ = ["EdgesalError"]
