"""``edgesal info``: params, FLOPs and preprocessing of a model."""

from __future__ import annotations

import json

import click

from edgesal.cli.params import IMAGE_SIDE


@click.command(epilog="""\b
Examples:
  edgesal info --list
  edgesal info --model fast --imgsz 384 512
  edgesal info --model runs/export/default_int8.tflite --json""")
@click.option("--model", default="default", show_default=True, help="model name or file")
@click.option("--imgsz", "input_hw", nargs=2, type=IMAGE_SIDE, help="input height width for FLOPs")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--list", "list_all", is_flag=True, help="list registered models and baselines")
def info(model: str, input_hw, as_json: bool, list_all: bool) -> None:
    """Describe a model (params, FLOPs at the input size, normalisation, output kind, source)."""
    if list_all:
        from edgesal.models import get_spec, list_models
        from edgesal.models.shipped import SHIPPED
        from edgesal.predictors import list_predictors

        for name in SHIPPED:
            click.echo(f"{name:28s} shipped trained student")
        for name in list_models():
            click.echo(f"{name:28s} {get_spec(name).description}")
        for name, desc in list_predictors().items():
            click.echo(f"{name:28s} {desc}")
        return
    from edgesal.model_info import model_info

    facts = model_info(model, tuple(input_hw) if input_hw else None)
    if as_json:
        click.echo(json.dumps(facts, indent=2))
    else:
        for key, value in facts.items():
            click.echo(f"{key:18s} {value}")


COMMANDS = [info]
