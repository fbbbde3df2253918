"""``edgesal bench`` (latency / FPS / memory / parity on a device) and ``edgesal report``."""

from __future__ import annotations

import click

from edgesal.bench.artefact import AUTO_RUNTIME, RUNTIME_SUFFIXES
from edgesal.bench.devices.adb import DELEGATES
from edgesal.cli.params import NON_NEGATIVE_INT, OUTPUT_FILE, OUTPUT_FOLDER, POSITIVE_FLOAT, POSITIVE_INT
from edgesal.errors import EdgesalError

_RUNTIME_HELP = (f"auto (by suffix: {', '.join(f'{s}→{r}' for s, r in AUTO_RUNTIME.items())}), "
                 f"{', '.join(list(RUNTIME_SUFFIXES)[:-1])} or {list(RUNTIME_SUFFIXES)[-1]}")


def _threads(value: str) -> list[int]:
    try:
        threads = [int(t) for t in value.split(",") if t.strip()]
    except ValueError:
        raise EdgesalError(f"--threads takes comma-separated integers, e.g. 1,2,4 (got {value!r})") from None
    if not threads or min(threads) < 1:
        raise EdgesalError(f"--threads takes positive integers (got {value!r})")
    return threads


def _print_results(doc: dict) -> None:
    from edgesal.bench.report import report_tables, title
    from edgesal.cli.tables import print_table

    for name, header, rows in report_tables(doc)[1:]:  # the device table is in the reports
        print_table(f"{title(doc)}: {name}" if name == "Latency" else name, header, rows)
    if doc["device"]["emulated"]:
        click.echo("note: emulated timings (qemu) are not compared with the FPS target")
    for choice in doc.get("pick", {}).get("choices", []):
        click.echo(f"pick ({choice['threads']} thread(s)): {choice['model'] or 'none'} — {choice['why']}")


@click.command(epilog="""\b
Examples:
  edgesal bench runs/export/default_int8.tflite runs/export/default_fp32.onnx --threads 1,2
  edgesal bench default_int8.tflite --device qemu-aarch64 --report runs/bench
  edgesal bench default_int8.tflite --device adb:SERIAL --delegate gpu --benchmark-binary ./benchmark_model
  edgesal bench --pick runs/export --model fast            # the fastest artefact that passed parity""")
@click.argument("models", nargs=-1, required=True, metavar="MODEL_FILE...")
@click.option("--runtime", default="auto", show_default=True, help=_RUNTIME_HELP)
@click.option("--threads", default="1", show_default=True, help="comma-separated thread counts, e.g. 1,2,4")
@click.option("--device", default="local", show_default=True,
              help="local | ssh:USER@HOST[:PORT] | adb:SERIAL | qemu-aarch64")
@click.option("--runs", default=50, show_default=True, type=POSITIVE_INT, help="timed runs per model (after warm-up)")
@click.option("--warmup", default=10, show_default=True, type=NON_NEGATIVE_INT, help="untimed warm-up runs per model")
@click.option("--target-fps", default=30.0, show_default=True, type=POSITIVE_FLOAT,
              help="pass/fail threshold (not for emulated devices)")
@click.option("--input", "image", type=click.Path(), help="a real image (preprocessed per model); default: random")
@click.option("--seed", default=0, show_default=True, type=NON_NEGATIVE_INT, help="seed of the random input")
@click.option("--json", "json_out", type=OUTPUT_FILE, help="write the result document to this file")
@click.option("--report", "report_dir", type=OUTPUT_FOLDER, help="write bench.json, bench.md, bench.html here")
@click.option("--no-parity", is_flag=True, help="skip the parity check against <model>.ref.npz")
@click.option("--no-memory", is_flag=True, help="skip the peak-memory probe")
@click.option("--strict", is_flag=True, help="exit non-zero when a model misses the FPS target or parity")
@click.option("--ssh-key", type=click.Path(), help="ssh: identity file (default: $EDGESAL_SSH_KEY / ssh's own)")
@click.option("--remote-python", help="ssh, adb: the device's Python with numpy + runtime (default python3)")
@click.option("--benchmark-binary", type=click.Path(),
              help="adb: TFLite benchmark_model for Android (default: $EDGESAL_BENCHMARK_MODEL)")
@click.option("--delegate", default="xnnpack", show_default=True, type=click.Choice(DELEGATES),
              help="adb: benchmark_model delegate (xnnpack = CPU threads, gpu, nnapi); other devices: xnnpack")
@click.option("--qemu-cache", type=click.Path(), help="qemu-aarch64: sysroot folder (default ~/.cache/edgesal/aarch64)")
@click.option("--pick", is_flag=True,
              help="MODEL_FILE... are export folders: time every artefact of one model there and recommend the "
                   "fastest that passed parity")
@click.option("--model", "pick_model",
              help="--pick: the model whose artefacts to time (needed when a folder has several)")
def bench(models, runtime, threads, device, runs, warmup, target_fps, image, seed, json_out, report_dir, no_parity,
          no_memory, strict, ssh_key, remote_python, benchmark_binary, delegate, qemu_cache, pick, pick_model) -> None:
    """Time MODEL_FILE(s) on a device: median/p90/p99/min latency, FPS, peak memory, parity.

    Several models are interleaved (A B A B … per run) and reported as ratios to the first.
    With --pick, MODEL_FILE... are export folders (or artefacts): every artefact of the model is
    timed and the fastest one that passed parity (export gate and, where checked, on the device)
    is recommended.
    """
    from edgesal.atomic import write_json
    from edgesal.bench.devices import DeviceOptions, device_class
    from edgesal.bench.harness import BenchRequest, run_bench
    from edgesal.bench.report import write_reports

    if delegate not in getattr(device_class(device.partition(":")[0]), "delegates", ("xnnpack",)):
        raise EdgesalError(f"--delegate {delegate} needs an adb:SERIAL device (this one runs XNNPACK on the CPU)")
    request = BenchRequest(models=list(models), runtime=runtime, threads=_threads(threads), device=device,
                           runs=runs, warmup=warmup, target_fps=target_fps, image=image, seed=seed,
                           parity=not no_parity, memory=not no_memory)
    options = DeviceOptions(ssh_key=ssh_key, remote_python=remote_python, benchmark_binary=benchmark_binary,
                            delegate=delegate, qemu_cache=qemu_cache)
    if pick_model and not pick:
        raise EdgesalError("--model selects the artefacts of --pick: add --pick (or give the files themselves)")
    log = lambda msg: click.echo(msg, err=True)  # noqa: E731
    if pick:
        from edgesal.bench.pick import run_pick

        doc = run_pick(request, list(models), pick_model, options, log)
    else:
        doc = run_bench(request, options, log=log)
    _print_results(doc)
    if json_out:
        write_json(json_out, doc)
        click.echo(f"json: {json_out}")
    if report_dir:
        paths = write_reports(doc, report_dir)
        click.echo("report: " + ", ".join(str(p) for p in paths.values()))
    verdict = doc["verdict"]
    if strict and (verdict["fps"] == "fail" or verdict["parity"] == "fail"):
        raise EdgesalError(f"bench failed: FPS {verdict['fps']}, parity {verdict['parity']}")


@click.command(epilog="""\b
Examples:
  edgesal report runs/bench
  edgesal report runs/bench/bench.json""")
@click.argument("path", type=click.Path())
def report(path: str) -> None:
    """Rebuild bench.md and bench.html from a saved bench.json (or the folder holding it)."""
    from edgesal.bench.report import rebuild

    paths = rebuild(path)
    click.echo("report: " + ", ".join(str(p) for p in paths.values()))


COMMANDS = [bench, report]
