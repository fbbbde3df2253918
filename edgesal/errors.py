"""User-facing errors: the CLI prints their message on one line and exits with ``exit_code``."""


class EdgesalError(Exception):
    """An error caused by user input (bad file, unknown name, wrong format): exit code 2."""

    exit_code = 2


class PartialRunError(EdgesalError):
    """A folder run that skipped some inputs but processed the rest: exit code 3."""

    exit_code = 3


def raise_for_skipped(skipped: list[str], done: int, total: int, what: str = "image", verb: str = "used") -> None:
    """End of a folder run: nothing ``skipped``, return; some, PartialRunError (exit 3); all
    (``done == 0``), EdgesalError (exit 2). ``skipped`` names the inputs (the first 5 are listed)."""
    if not skipped:
        return
    names = ", ".join(skipped[:5]) + (" …" if len(skipped) > 5 else "")
    if not done:
        raise EdgesalError(f"none of the {total} {what}(s) could be {verb}: {names}")
    raise PartialRunError(f"skipped {len(skipped)} of {total} {what}(s) that could not be {verb}: {names}")
