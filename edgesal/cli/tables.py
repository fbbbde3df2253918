"""Printing result tables with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """Render a simple table to stdout."""
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="right" if col not in ("model", "file") else "left")
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)
