"""User-facing errors: the CLI prints their message on one line and exits non-zero."""


class EdgesalError(Exception):
    """An error caused by user input (bad file, unknown name, wrong format)."""
