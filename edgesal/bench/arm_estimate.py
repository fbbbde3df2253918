"""Estimated ARM latency without a board: aarch64 instructions per inference counted under
qemu-user (a TCG plugin), per named core (Cortex-A53, A55, A76), converted to milliseconds
through a reference model with a published latency on each core, and the FPS verdict.

    python -m edgesal.bench.arm_estimate MODEL [MODEL...] [--cores a53,a55,a76] [--json OUT] [--md OUT]

Method, assumptions and limits: docs/device.md, "ARM estimate without a board".
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from edgesal.bench.artefact import Artefact, resolve_artefact
from edgesal.bench.qemu.cores import CORES, get_core
from edgesal.bench.qemu.count import CountJob, count_instructions
from edgesal.bench.qemu.estimate import REFERENCE_FILE, REFERENCES, Reference, estimate_rows, parse_ref_ms
from edgesal.bench.report import markdown_page
from edgesal.errors import EdgesalError
from edgesal.paths import shared_path

SCHEMA = "edgesal-arm-estimate/1"
EXAMPLES = """examples:
  python -m edgesal.bench.arm_estimate runs/export/default_int8.tflite
  python -m edgesal.bench.arm_estimate nano=runs/export_nano/nano_int8.tflite --cores a53,a76 --md out/arm.md
  python -m edgesal.bench.arm_estimate model.tflite --ref-ms a76=12.5 --json out/arm.json"""


def labelled_artefact(spec: str) -> Artefact:
    """``PATH`` or ``LABEL=PATH`` (a file only: the emulated runtimes open .tflite / .onnx)."""
    label, sep, path = spec.partition("=")
    if not sep or Path(spec).exists():
        label, path = "", spec
    artefact = resolve_artefact(path)
    if not artefact.is_file or artefact.runtime not in ("litert", "onnxruntime"):
        raise EdgesalError(f"{spec}: the ARM estimate runs .tflite (LiteRT) and .onnx (onnxruntime) files")
    if label:
        artefact.label = label
    return artefact


def reference_artefact(path: str | None) -> Artefact:
    """The reference model: ``path``, else the Coral MobileNetV2 int8 in ``../shared/weights``."""
    found = path or shared_path(*REFERENCE_FILE)
    if not found:
        raise EdgesalError("reference model not found: pass --reference "
                           f"(default: ../shared/{'/'.join(REFERENCE_FILE)})")
    artefact = labelled_artefact(str(found))
    artefact.label = "MobileNetV2 int8 (reference)"
    return artefact


def run_estimate(models: list[Artefact], reference: Artefact, cores: list[str], job: CountJob,
                 references: dict[str, Reference], target_fps: float,
                 log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)) -> dict:
    """Count every model + the reference on each core (one emulated process per core); the document."""
    from edgesal.bench.arm_sysroot import ensure_sysroot

    labels = [m.label for m in [reference, *models]]
    if len(set(labels)) != len(labels):
        dup = next(label for label in labels if labels.count(label) > 1)
        raise EdgesalError(f"two models are labelled {dup!r}: name them LABEL=PATH")
    sysroot = ensure_sysroot(log=log)
    counts = []
    for name in cores:
        core = get_core(name)
        log(f"arm estimate: counting {len(models) + 1} models on {core.label} (qemu {core.qemu_cpu}) …")
        t0 = time.perf_counter()
        counts += count_instructions([reference, *models], core, sysroot, job)
        log(f"arm estimate: {core.label} done in {time.perf_counter() - t0:.0f} s")
    return {"schema": SCHEMA, "target_fps": target_fps, "reference": reference.label,
            "references": {c: vars(r) for c, r in references.items()},
            "cores": {c: vars(get_core(c)) for c in cores}, "job": vars(job),
            "models": {m.label: m.path for m in [reference, *models]},
            "rows": estimate_rows(counts, reference.label, references, target_fps)}


def _f(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def table(doc: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows: model × core, instructions, × reference, estimated ms / FPS, verdict."""
    fps = doc["target_fps"]
    header = ["model", "core", "M instr./inference", "× reference", "est. ms", "est. FPS", f"{fps:g} FPS",
              f"{fps:g} FPS if reference ≤ ms"]
    rows = [[r["label"], doc["cores"][r["core"]]["label"], f"{r['per_inference'] / 1e6:.1f}",
             f"{r['x_reference']:.2f}", _f(r["estimated_ms"], ".1f"), _f(r["estimated_fps"], ".1f"), r["verdict"],
             f"{r['break_even_ref_ms']:.1f}"] for r in doc["rows"]]
    x86 = doc.get("x86_ms")  # measured on the host (benchmarks/arm_estimate.py --x86)
    if x86:
        header.append("x86 ms (host, 1 thread)")
        for row, r in zip(rows, doc["rows"], strict=True):
            row.append(_f(x86.get(r["label"]), ".2f"))
    return header, rows


def verdict_table(doc: dict) -> tuple[list[str], list[list[str]]]:
    """Model × core: estimated ms and verdict, or the reference latency the target needs."""
    cores = list(doc["cores"])
    cell = {(r["label"], r["core"]): (f"{r['estimated_ms']:.0f} ms {r['verdict']}" if r["estimated_ms"] else
                                      f"{r['verdict']}: needs reference ≤ {r['break_even_ref_ms']:.0f} ms")
            for r in doc["rows"]}
    labels = list(dict.fromkeys(r["label"] for r in doc["rows"]))
    header = ["model", *(doc["cores"][c]["label"] for c in cores)]
    return header, [[label, *(cell[label, c] for c in cores)] for label in labels]


def to_markdown(doc: dict) -> str:
    refs = [f"- {doc['cores'][c]['label']}: {r['ms']:g} ms — {r['source']} ({r['conditions']})"
            for c, r in doc["references"].items()]
    intro = [f"Estimated single-thread latency from aarch64 instruction counts (qemu-user plugin, "
             f"N={doc['job']['n']} vs 2N invokes differenced), scaled by the reference model "
             f"({doc['reference']}) counted on the same core profile.",
             "Reference latencies used:\n" + ("\n".join(refs) if refs else "- none (only break-even latencies)")]
    footer = [f"\"—\": no published reference latency for that core (pass `--ref-ms CORE=MS`, the reference's "
              f"latency measured once on the board). The last column needs none: the model reaches "
              f"{doc['target_fps']:g} FPS on a core exactly when that core runs the reference in at most that many ms "
              "(same instructions-per-ms assumption). Method and limits: docs/device.md, "
              "\"ARM estimate without a board\"."]
    return markdown_page("ARM latency estimate", intro, [(f"{doc['target_fps']:g} FPS per core", *verdict_table(doc)),
                                                            ("Estimate", *table(doc))], footer)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m edgesal.bench.arm_estimate", description=__doc__.splitlines()[0],
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", metavar="[LABEL=]MODEL", help=".tflite or .onnx artefacts")
    parser.add_argument("--cores", default=",".join(CORES), help="comma-separated: " + ", ".join(CORES))
    parser.add_argument("--reference", help="reference model (default: the Coral MobileNetV2 int8 in ../shared)")
    parser.add_argument("--ref-ms", action="append", default=[], metavar="CORE=MS",
                        help="the reference's measured latency on CORE (replaces the published one)")
    parser.add_argument("--n", type=int, default=1, help="invokes in the first counted region (the second runs 2N)")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted invokes before the regions")
    parser.add_argument("--threads", type=int, default=1, help="runtime threads")
    parser.add_argument("--target-fps", type=float, default=30.0)
    parser.add_argument("--json", dest="json_out", help="write the result document here")
    parser.add_argument("--md", dest="md_out", help="write a Markdown table here")
    return parser


def main(argv: list[str] | None = None) -> int:
    from edgesal.atomic import write_json, write_text

    args = _parser().parse_args(argv)
    try:
        cores = [get_core(c.strip()).name for c in args.cores.split(",") if c.strip()]
        if args.n < 1 or args.warmup < 1 or args.threads < 1 or args.target_fps <= 0:
            raise EdgesalError("--n, --warmup and --threads must be ≥ 1 and --target-fps > 0")
        references = {**{c: r for c, r in REFERENCES.items() if c in cores}, **parse_ref_ms(args.ref_ms, cores)}
        doc = run_estimate([labelled_artefact(m) for m in args.models], reference_artefact(args.reference), cores,
                           CountJob(n=args.n, warmup=args.warmup, threads=args.threads), references, args.target_fps)
    except EdgesalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    markdown = to_markdown(doc)
    print(markdown)
    if args.json_out:
        write_json(args.json_out, doc)
    if args.md_out:
        write_text(args.md_out, markdown)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
