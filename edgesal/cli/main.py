"""Entry point: ``edgesal <command>``; user errors print one line and exit 2."""

from __future__ import annotations

import os
import sys
import warnings

# torch's OpenMP threads busy-wait between parallel regions by default: on a machine whose cores
# are shared (another job, CI neighbours) that made a 2-thread forward pass 30x slower (1,970 vs
# 59 ms per image with one busy process beside it; docs/cli.md). Set before torch is imported;
# an explicit user setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import click

from edgesal import __version__
from edgesal.errors import EdgesalError


def _short_warning(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=file or sys.stderr)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgesal")
def cli() -> None:
    """edgesal: saliency (gaze prediction) models for phones and edge CPUs."""


def _register_commands() -> None:
    from edgesal.cli import bench, benchmark, crop, evaluate, export, info, predict, prune, train, video

    for module in (evaluate, train, predict, info, export, bench, benchmark, prune, crop, video):
        for command in module.COMMANDS:
            cli.add_command(command)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _usage_error(exc: click.ClickException) -> str:
    """A click parse error as one line naming the command, e.g. ``edgesal predict: …``."""
    ctx = getattr(exc, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None and ctx.command_path != "edgesal" else ""
    hint = f" (see {ctx.command_path} --help)" if isinstance(exc, click.UsageError) and ctx is not None else ""
    return f"{where}{_one_line(exc.format_message())}{hint}"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI: user errors (EdgesalError, bad options) print one ``error: …`` line and exit 2.

    Anything else is a bug: one line naming it, exit 1, and the traceback only with
    ``EDGESAL_DEBUG=1``.
    """
    warnings.showwarning = _short_warning
    _register_commands()
    try:
        rc = cli.main(args=argv, prog_name="edgesal", standalone_mode=False)
    except EdgesalError as exc:
        click.echo(f"error: {_one_line(exc)}", err=True)
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"error: {_usage_error(exc)}", err=True)
        return 2 if isinstance(exc, click.UsageError) else exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except MemoryError:
        click.echo("error: out of memory (try a smaller --batch, --imgsz or fewer images)", err=True)
        return 2
    except Exception as exc:
        if os.environ.get("EDGESAL_DEBUG"):
            raise
        click.echo(f"error: internal error {type(exc).__name__}: {_one_line(exc)[:300]} "
                   "(a bug in edgesal: rerun with EDGESAL_DEBUG=1 for the traceback)", err=True)
        return 1
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
