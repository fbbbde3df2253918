"""Entry point: ``edgesal <command>``; user errors print one line and exit 2."""

from __future__ import annotations

import sys
import warnings

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
    from edgesal.cli import bench, evaluate, export, info, predict, prune, train

    for module in (evaluate, train, predict, info, export, bench, prune):
        for command in module.COMMANDS:
            cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; EdgesalError → 'error: …' on stderr and exit code 2."""
    warnings.showwarning = _short_warning
    _register_commands()
    try:
        cli.main(args=argv, prog_name="edgesal", standalone_mode=False)
    except EdgesalError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
