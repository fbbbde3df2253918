"""``edgesal export`` and ``edgesal calib-set``."""

from __future__ import annotations

from pathlib import Path

import click

from edgesal.cli.params import (
    IMAGE_SIDE,
    NON_NEGATIVE_FLOAT,
    NON_NEGATIVE_INT,
    OUTPUT_FOLDER,
    POSITIVE_INT,
    UNIT_INTERVAL,
)
from edgesal.export.formats import EXPORT_FORMATS


@click.command(epilog="""\b
Examples:
  edgesal export --target tflite --int8                 # the default model → runs/export
  edgesal export --model fast --target onnx --target openvino --fp32 --int8
  edgesal export --model run/best.pt --target tflite --int8 --calib my_photos/
  edgesal export --model fast --target tflite --int8 --verbose   # with the converters' logs""")
@click.option("--target", "targets", multiple=True, default=["onnx"], show_default=True,
              help=f"export target, repeatable: {', '.join(EXPORT_FORMATS)}")
@click.option("--int8", is_flag=True, help="int8 artefact (calibrated; the head stays float)")
@click.option("--fp16", is_flag=True, help="fp16 artefact (targets that support it)")
@click.option("--fp32", is_flag=True, help="also an fp32 artefact when --int8/--fp16 are given")
@click.option("--calib", type=click.Path(), help="folder of calibration images (default: calibration/default)")
@click.option("--imgsz", nargs=2, type=IMAGE_SIDE, help="input height width (default: the model's)")
@click.option("--model", default="default", show_default=True, help="model name, architecture or .pt checkpoint")
@click.option("--out", default="runs/export", show_default=True, type=OUTPUT_FOLDER, help="output folder")
@click.option("--parity-images", default=20, show_default=True, type=POSITIVE_INT,
              help="held-out images for the parity gate")
@click.option("--parity-data", default="osie", show_default=True,
              help="dataset name (its test split) or folder for parity; falls back to calibration images")
@click.option("--min-cc", type=UNIT_INTERVAL, help="parity: minimum mean CC (default 0.99 fp32/fp16, 0.97 int8)")
@click.option("--max-kl", type=NON_NEGATIVE_FLOAT,
              help="parity: maximum mean KL (default 0.01 fp32/fp16, 0.05 int8)")
@click.option("--max-dauc", type=NON_NEGATIVE_FLOAT,
              help="parity: maximum |ΔAUC-Judd| (default 0.001 fp32, 0.005 int8)")
@click.option("--max-dnss", type=NON_NEGATIVE_FLOAT, help="parity: maximum |ΔNSS| (default 0.01 fp32, 0.05 int8)")
@click.option("--opt", "options", multiple=True, metavar="NAME=VALUE",
              help="target option, e.g. layout=nchw or io=float for tflite (see docs/export.md)")
@click.option("--debug-parity", is_flag=True, help="locate the first layer where the artefact diverges")
@click.option("--verbose", "-v", is_flag=True,
              help="show the converters' own logs, warnings and progress bars (hidden by default)")
def export(targets, int8, fp16, fp32, calib, imgsz, model, out, parity_images, parity_data, min_cc, max_kl,
           max_dauc, max_dnss, options, debug_parity, verbose) -> None:
    """Export a model to ONNX / TFLite / OpenVINO and gate each artefact on saliency parity.

    Each stage (load model, read calibration, convert, calibrate, quantise, parity, latency,
    publish) prints one line with its time on stderr.
    """
    from edgesal.cli.tables import print_table
    from edgesal.errors import EdgesalError
    from edgesal.quiet import hushed

    precisions = [p for p, on in (("fp32", fp32 or not (int8 or fp16)), ("fp16", fp16), ("int8", int8)) if on]
    targets = [t for item in targets for t in item.split(",") if t.strip()]
    with hushed(not verbose):  # before the converters are imported: some read the environment then
        from edgesal.export import ExportRequest, export_model
        from edgesal.export.report import COLUMNS, table_rows

        request = ExportRequest(
            model=model, targets=tuple(targets), precisions=tuple(precisions), calib=calib,
            imgsz=tuple(imgsz) if imgsz else None, out=out, parity_images=parity_images, parity_data=parity_data,
            thresholds={"min_cc": min_cc, "max_kl": max_kl, "max_dauc": max_dauc, "max_dnss": max_dnss},
            options=list(options), debug_parity=debug_parity,
        )
        results = export_model(request)
    print_table(f"edgesal export: {model}", COLUMNS, table_rows(results, Path(out)))
    for r in results:
        if r.debug:  # the full per-layer list is in export_report.json
            click.echo(f"debug-parity {r.target}/{r.precision}: {r.debug[-1]}")
    click.echo(f"reports: {Path(out) / 'export_report.md'}, {Path(out) / 'export_report.json'}")
    failed = [r for r in results if not r.passed]
    if failed:
        raise EdgesalError("parity failed for " + ", ".join(f"{r.path.name} ({'; '.join(r.parity.failures)})"
                                                           for r in failed))


@click.command("calib-set", epilog="""\b
Examples:
  edgesal calib-set --data osie --split train --n 200 --out calib/osie200""")
@click.option("--data", required=True, help="dataset name or folder")
@click.option("--split", default="train", show_default=True, help="split to draw from (never the test split)")
@click.option("--n", "n", default=200, show_default=True, type=POSITIVE_INT, help="number of images")
@click.option("--out", required=True, type=OUTPUT_FOLDER, help="output folder")
@click.option("--seed", default=0, show_default=True, type=NON_NEGATIVE_INT)
def calib_set(data: str, split: str, n: int, out: str, seed: int) -> None:
    """Copy N random images of a dataset split into a calibration folder (for --calib)."""
    from edgesal.export.calibration import build_calibration_set

    written = build_calibration_set(data, split, n, out, seed)
    click.echo(f"wrote {len(written)} calibration image(s) to {out}")


COMMANDS = [export, calib_set]
