"""User-facing errors: the CLI prints their message on one line and exits with ``exit_code``."""


class EdgesalError(Exception):
    """An error caused by user input (bad file, unknown name, wrong format): exit code 2."""

    exit_code = 2


class PartialRunError(EdgesalError):
    """A folder run that skipped some inputs but processed the rest: exit code 3."""

    exit_code = 3
