"""``edgesal benchmark``: every target × precision of a model exported, validated, scored and timed."""

from __future__ import annotations

import click

from edgesal.cli.evaluate import SPLIT_CHOICES
from edgesal.cli.params import NON_NEGATIVE_FLOAT, NON_NEGATIVE_INT, OUTPUT_FOLDER, POSITIVE_INT, UNIT_INTERVAL
from edgesal.export.formats import EXPORT_FORMATS, PRECISIONS


@click.command(epilog="""\b
Examples:
  edgesal benchmark --model fast
  edgesal benchmark --model default --data osie --split test --limit 50
  edgesal benchmark --model run/best.pt --target onnx --target tflite --precision int8 --out runs/bm""")
@click.option("--model", default="default", show_default=True, help="model name, architecture or .pt checkpoint")
@click.option("--target", "targets", multiple=True,
              help=f"export target, repeatable (default: all of {', '.join(EXPORT_FORMATS)})")
@click.option("--precision", "precisions", multiple=True, type=click.Choice(PRECISIONS),
              help="precision, repeatable (default: fp32 and int8, where a target supports it)")
@click.option("--data", help="dataset name or folder to score each artefact on (default: no accuracy columns)")
@click.option("--split", type=click.Choice(SPLIT_CHOICES, case_sensitive=False),
              help="split of --data [default: its held-out split]")
@click.option("--limit", type=POSITIVE_INT, help="score only the first N images of the split")
@click.option("--threads", default=1, show_default=True, type=POSITIVE_INT, help="inference threads when timing")
@click.option("--runs", default=50, show_default=True, type=POSITIVE_INT, help="timed interleaved runs per model")
@click.option("--warmup", default=10, show_default=True, type=NON_NEGATIVE_INT, help="untimed warm-up runs per model")
@click.option("--out", type=OUTPUT_FOLDER, help="artefacts and reports [default: runs/benchmark/<model>]")
@click.option("--calib", type=click.Path(), help="folder of calibration images (default: calibration/default)")
@click.option("--parity-data", default="osie", show_default=True,
              help="dataset name (its test split) or folder for the parity gate")
@click.option("--parity-images", default=20, show_default=True, type=POSITIVE_INT,
              help="held-out images for the parity gate")
@click.option("--min-cc", type=UNIT_INTERVAL, help="parity: minimum mean CC (default 0.99 fp32/fp16, 0.97 int8)")
@click.option("--max-kl", type=NON_NEGATIVE_FLOAT, help="parity: maximum mean KL (default 0.01 fp32, 0.05 int8)")
@click.option("--max-dauc", type=NON_NEGATIVE_FLOAT,
              help="parity: maximum |ΔAUC-Judd| (default 0.001 fp32, 0.005 int8)")
@click.option("--max-dnss", type=NON_NEGATIVE_FLOAT, help="parity: maximum |ΔNSS| (default 0.01 fp32, 0.05 int8)")
@click.option("--opt", "options", multiple=True, metavar="NAME=VALUE", help="target option, e.g. layout=nchw (tflite)")
@click.option("--no-reuse", is_flag=True, help="re-export even when a current artefact is in --out")
@click.option("--strict", is_flag=True, help="exit 2 unless every row passed (✅)")
def benchmark(model, targets, precisions, data, split, limit, threads, runs, warmup, out, calib, parity_data,
              parity_images, min_cc, max_kl, max_dauc, max_dnss, options, no_reuse, strict) -> None:
    """Export MODEL to every target × precision, check parity, score, time all artefacts interleaved.

    One table: ✅ passed the parity gate, ❎ exported but failed it, ❌ failed to export (with
    the reason); size, latency, ratios to the fastest and to torch, accuracy with --data.
    Writes benchmark.json, benchmark.md and benchmark.html into --out.
    """
    from edgesal.bench.suite import BenchmarkRequest, run_benchmark
    from edgesal.bench.suite_report import header, table_rows, title, write_reports
    from edgesal.cli.tables import print_table
    from edgesal.errors import EdgesalError

    request = BenchmarkRequest(
        model=model, targets=tuple(t for item in targets for t in item.split(",") if t.strip()),
        precisions=tuple(precisions) or ("fp32", "int8"), out=out, data=data, split=split, limit=limit,
        threads=threads, runs=runs, warmup=warmup, calib=calib, parity_data=parity_data, parity_images=parity_images,
        thresholds={"min_cc": min_cc, "max_kl": max_kl, "max_dauc": max_dauc, "max_dnss": max_dnss},
        options=list(options), reuse=not no_reuse)
    doc = run_benchmark(request, log=lambda msg: click.echo(msg, err=True))
    from rich.markup import escape

    print_table(title(doc), header(doc), [[escape(c) for c in row] for row in table_rows(doc)])  # "edgesal[tflite]"
    paths = write_reports(doc, doc["out"])
    click.echo("reports: " + ", ".join(str(p) for p in paths.values()))
    bad = [f"{r['target']} {r['precision']}" for r in doc["rows"] if r["symbol"] != "✅"]
    if strict and bad:
        raise EdgesalError(f"benchmark: not every artefact passed: {', '.join(bad)}")


COMMANDS = [benchmark]
