"""ARM latency estimate table for the shipped models and the peers, per named core, with the
30 FPS verdict, beside the same models' 1-thread x86 latency (LiteRT, one interleaved run).

Models: glimpse (../shared/weights/glimpse), `fast` and `default` fp32 + int8 TFLite from
`--art` (edgesal export output folders; fp32/int8 files found by name), and any `--model
LABEL=PATH` (e.g. the `nano` student). The Coral MobileNetV2 int8 is the reference.

    python benchmarks/arm_estimate.py --art /tmp/arm_art --out docs/results/arm_estimate.md
    python benchmarks/arm_estimate.py --art runs --model nano_int8=runs/export_nano/nano_int8.tflite --x86
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from edgesal.atomic import write_json, write_text
from edgesal.bench.arm_estimate import labelled_artefact, reference_artefact, run_estimate, to_markdown
from edgesal.bench.qemu.cores import CORES
from edgesal.bench.qemu.count import CountJob
from edgesal.bench.qemu.estimate import REFERENCES, parse_ref_ms
from edgesal.paths import shared_path


def shipped_artefacts(art: Path, names: list[str]) -> list[str]:
    """``LABEL=PATH`` for glimpse and each ``<name>_{fp32,int8}.tflite`` found under ``art``."""
    specs = []
    glimpse = shared_path("weights", "glimpse", "model.tflite")
    if glimpse:
        specs.append(f"glimpse={glimpse}")
    for name in names:
        for precision in ("fp32", "int8"):
            found = sorted(art.rglob(f"{name}_{precision}.tflite"))
            if found:
                specs.append(f"{name} {precision}={found[-1]}")
            else:
                print(f"warning: no {name}_{precision}.tflite under {art} (export it with edgesal export)")
    return specs


def x86_latency(artefacts, runs: int = 30, warmup: int = 5) -> dict[str, float]:
    """Median 1-thread ms on this machine, all models interleaved (the bench harness's local device)."""
    from edgesal.bench.devices import BenchJob, open_device

    with open_device("local") as device:
        results = device.bench(BenchJob(models=artefacts, threads=[1], runs=runs, warmup=warmup, inputs={}))
    return {r["model"]: float(np.median(r["latencies_ms"])) for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--art", type=Path, default=Path("runs"), help="folder searched for <model>_<prec>.tflite")
    parser.add_argument("--names", default="fast,default", help="shipped model names to look for under --art")
    parser.add_argument("--model", action="append", default=[], metavar="LABEL=PATH", help="extra artefact (nano)")
    parser.add_argument("--cores", default=",".join(CORES))
    parser.add_argument("--ref-ms", action="append", default=[], metavar="CORE=MS")
    parser.add_argument("--x86", action="store_true", help="also time every model here (LiteRT, 1 thread)")
    parser.add_argument("--out", type=Path, default=Path("docs/results/arm_estimate.md"))
    args = parser.parse_args()
    cores = [c.strip() for c in args.cores.split(",") if c.strip()]
    models = [labelled_artefact(s) for s in shipped_artefacts(args.art, args.names.split(",")) + args.model]
    reference = reference_artefact(None)
    references = {**{c: r for c, r in REFERENCES.items() if c in cores}, **parse_ref_ms(args.ref_ms, cores)}
    doc = run_estimate(models, reference, cores, CountJob(), references, target_fps=30.0)
    if args.x86:
        doc["x86_ms"] = x86_latency([reference, *models])
    markdown = to_markdown(doc)
    write_text(args.out, markdown)
    write_json(args.out.with_suffix(".json"), doc)
    print(markdown)


if __name__ == "__main__":
    main()
