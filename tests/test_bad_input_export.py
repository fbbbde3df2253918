"""Bad-input suite for export, calib-set, bench, report and model files (``info --model``).

Same contract as ``tests/test_bad_input.py`` (see ``tests/bad_input.py``): one ``error:``
line naming the problem, exit 2, no traceback, no file lost or changed. The world also
holds ``art/``: the tiny demo model exported to ONNX with its sidecar and ``.ref.npz``.
"""

from __future__ import annotations

import json
import shutil

import pytest
from bad_input import Case, World, build_world, run_case
from bad_input import write_file as _write

ART = "art/uva_tiny_readout_fp32.onnx"


@pytest.fixture
def world(tmp_path, tiny_ckpt, blob_dataset, tiny_onnx):
    w = build_world(tmp_path / "w", tiny_ckpt, blob_dataset)
    (w.root / "art").mkdir()
    for path in tiny_onnx.parent.glob(tiny_onnx.name + "*"):
        if not path.name.endswith(".failed"):
            shutil.copy(path, w.root / "art" / path.name)
    return w


def _truncate(rel: str, keep: float = 0.5):
    """Cut ``rel`` (a file in the world) to ``keep`` of its length."""
    def setup(world: World) -> None:
        path = world.root / rel
        path.write_bytes(path.read_bytes()[:int(path.stat().st_size * keep)])
    return setup


def _sidecar(value):
    """Replace the artefact's sidecar JSON (valid JSON, wrong content)."""
    def setup(world: World) -> None:
        path = world.root / (ART + ".json")
        meta = json.loads(path.read_text())
        path.write_text(json.dumps(value(meta) if callable(value) else value))
    return setup


def _truncated_onnx(world: World) -> None:
    data = (world.root / ART).read_bytes()
    (world.root / "cut.onnx").write_bytes(data[:len(data) // 2])


def _garbage_ir(world: World) -> None:
    (world.root / "ir").mkdir()
    (world.root / "ir" / "m.xml").write_text('<?xml version="1.0"?>\n<net name="m" version="11"><layers><layer id=')
    (world.root / "ir" / "m.bin").write_bytes(b"\x00" * 64)


def _bench_doc(drop: str):
    """A bench.json with schema edgesal-bench/1 but the key ``drop`` (dotted) missing."""
    def setup(world: World) -> None:
        doc = {"schema": "edgesal-bench/1", "created": "2025-01-01T00:00:00+00:00", "edgesal_version": "0",
               "device": {"spec": "local", "kind": "local", "emulated": False},
               "config": {"target_fps": 30.0, "runs": 5, "warmup": 1, "input": "random"},
               "models": [], "memory": {}, "parity": {}, "verdict": {"fps": "pass", "parity": "not checked"},
               "results": [{"model": "m", "runtime": "onnxruntime", "threads": 1, "median_ms": 1.0, "fps": 1000.0,
                            "meets_target": True}]}
        *parents, last = drop.split(".")
        node = doc
        for key in parents:
            node = node[key][0] if isinstance(node[key], list) else node[key]
        del node[last]
        (world.root / "rep").mkdir()
        (world.root / "rep" / "bench.json").write_text(json.dumps(doc))
    return setup


EXPORT = ["export", "--model", "{ckpt}", "--out", "{w}/exp", "--parity-data", "{w}/data", "--parity-images", "4"]
BENCH = ["bench", "{w}/" + ART, "--runs", "2", "--warmup", "0", "--no-memory"]
CASES: list[Case] = [
    # --- export: ranges checked at parse time
    Case("export-min-cc-above-1", [*EXPORT, "--min-cc", "1.01"], r"--min-cc"),
    Case("export-min-cc-nan", [*EXPORT, "--min-cc", "nan"], r"--min-cc.*nan"),
    Case("export-max-kl-negative", [*EXPORT, "--max-kl", "-0.1"], r"--max-kl"),
    Case("export-max-dauc-negative", [*EXPORT, "--max-dauc", "-1"], r"--max-dauc"),
    Case("export-max-dnss-nan", [*EXPORT, "--max-dnss", "nan"], r"--max-dnss.*nan"),
    Case("export-max-kl-inf", [*EXPORT, "--max-kl", "inf"], r"--max-kl.*inf"),
    Case("export-imgsz-zero", [*EXPORT, "--imgsz", "0", "0"], r"--imgsz"),
    Case("export-imgsz-negative", [*EXPORT, "--imgsz", "-64", "64"], r"--imgsz"),
    Case("export-imgsz-too-small", [*EXPORT, "--imgsz", "16", "16"], r"--imgsz"),
    Case("export-imgsz-not-a-multiple", [*EXPORT, "--imgsz", "40", "56"], r"--imgsz 40 56.*multiples? of 32"),
    Case("export-parity-images-0", [*EXPORT, "--parity-images", "0"], r"--parity-images"),
    Case("export-out-is-a-file", [*EXPORT[:4], "{w}/notes.txt", *EXPORT[5:]], r"notes\.txt is a file"),
    Case("export-out-under-a-file", [*EXPORT[:4], "{w}/notes.txt/x", *EXPORT[5:]], r"notes\.txt is a file"),
    # --- calib-set
    Case("calib-set-n-0", ["calib-set", "--data", "{w}/data", "--n", "0", "--out", "{w}/cal"], r"--n"),
    Case("calib-set-split-test", ["calib-set", "--data", "{w}/data", "--split", "test", "--out", "{w}/cal"],
         r"training split, not 'test'"),
    Case("calib-set-out-is-a-file", ["calib-set", "--data", "{w}/data", "--out", "{w}/notes.txt"],
         r"notes\.txt is a file"),
    # --- info: model files that pass the header check but cannot be loaded
    Case("info-imgsz-zero", ["info", "--model", "{ckpt}", "--imgsz", "0", "0"], r"--imgsz"),
    Case("info-imgsz-not-a-multiple", ["info", "--model", "{ckpt}", "--imgsz", "40", "56"],
         r"--imgsz 40 56.*multiples? of 32"),
    Case("info-truncated-tflite", ["info", "--model", "{w}/m.tflite"], r"m\.tflite",
         setup=_write("m.tflite", b"\x1c\x00\x00\x00TFL3" + b"\x00" * 24)),
    Case("info-text-as-tflite", ["info", "--model", "{w}/notes.tflite"], r"notes\.tflite.*not a valid \.tflite",
         setup=_write("notes.tflite", "plain text")),
    Case("info-truncated-onnx", ["info", "--model", "{w}/cut.onnx"], r"cut\.onnx", setup=_truncated_onnx),
    Case("info-garbage-onnx", ["info", "--model", "{w}/g.onnx"], r"g\.onnx",
         setup=_write("g.onnx", b"\x08" + b"\xff" * 64)),
    Case("info-garbage-openvino-ir", ["info", "--model", "{w}/ir/m.xml"], r"m\.xml: (?!.*src/)", setup=_garbage_ir),
    Case("info-openvino-ir-without-bin", ["info", "--model", "{w}/ir/m.xml"], r"m\.bin",
         setup=lambda w: (_garbage_ir(w), (w.root / "ir" / "m.bin").unlink())),
    # --- bench: options checked before anything runs
    Case("bench-runs-0", [*BENCH, "--runs", "0"], r"--runs"),
    Case("bench-warmup-negative", [*BENCH, "--warmup", "-1"], r"--warmup"),
    Case("bench-threads-0-x", [*BENCH, "--threads", "0,x"], r"--threads"),
    Case("bench-threads-0", [*BENCH, "--threads", "0"], r"--threads"),
    Case("bench-target-fps-nan", [*BENCH, "--target-fps", "nan"], r"--target-fps"),
    Case("bench-json-is-a-folder", [*BENCH, "--json", "{w}/out"], r"out is a folder"),
    Case("bench-report-is-a-file", [*BENCH, "--report", "{w}/notes.txt"], r"notes\.txt is a file"),
    # --- bench: artefact companions that are present but broken
    Case("bench-truncated-reference", BENCH, r"ref\.npz", setup=_truncate(ART + ".ref.npz")),
    Case("bench-reference-not-npz", BENCH, r"ref\.npz", setup=_write(ART + ".ref.npz", "not a zip")),
    Case("bench-sidecar-input-hw-string", BENCH, r"\.onnx\.json.*input_hw",
         setup=_sidecar(lambda m: {**m, "input_hw": "abc"})),
    Case("bench-sidecar-mean-wrong-length", BENCH, r"\.onnx\.json.*mean",
         setup=_sidecar(lambda m: {**m, "mean": [0.5]})),
    Case("bench-sidecar-is-a-list", BENCH, r"\.onnx\.json.*object", setup=_sidecar([1, 2, 3])),
    Case("bench-sidecar-not-json", BENCH, r"\.onnx\.json.*not valid JSON", setup=_write(ART + ".json", "{")),
    # --- report: valid JSON, wrong content
    Case("report-missing-results", ["report", "{w}/rep"], r"missing key 'results'", setup=_bench_doc("results")),
    Case("report-missing-device-spec", ["report", "{w}/rep"], r"missing key 'device\.spec'",
         setup=_bench_doc("device.spec")),
    Case("report-row-missing-median", ["report", "{w}/rep"], r"missing key 'results\[0\]\.median_ms'",
         setup=_bench_doc("results.median_ms")),
    Case("report-not-json", ["report", "{w}/rep/bench.json"], r"not valid JSON",
         setup=lambda w: _write("rep/bench.json", "{")(w)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_export(case, world, capsys):
    run_case(case, world, capsys)
