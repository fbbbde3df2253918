"""Export to every target × precision of the table, parity gate, metadata, errors, CLI.

Models are the tiny 64×64 UVA architectures trained for a few steps on the synthetic
blob dataset, so their maps have structure and the parity numbers mean something.
Each parametrised case exports its own artefact so pytest-xdist can spread them.
"""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import edgesal
from edgesal.errors import EdgesalError
from edgesal.export import EXPORT_FORMATS, ExportRequest, export_model, get_format
from edgesal.export.formats import check_precision, formats_markdown, parse_options
from edgesal.runtimes import load_runtime
from edgesal.runtimes.metadata import read_metadata

CASES = [(f.name, p) for f in EXPORT_FORMATS.values() for p in f.precisions]
LENIENT_INT8 = {"min_cc": 0.9, "max_kl": 0.2, "max_dauc": 0.05, "max_dnss": 0.3}  # mechanics, not quality


def _train(spec_name: str, data_root: Path, out: Path, steps: int = 60) -> Path:
    """A few Adam steps towards the blob densities (fixed seed): a map with structure."""
    from edgesal.data import open_dataset
    from edgesal.models import build_model, get_spec, save_checkpoint
    from edgesal.predictors.torch_model import preprocess

    torch.manual_seed(0)
    spec = get_spec(spec_name)
    model = build_model(spec)
    samples = [s for s in open_dataset(str(data_root))]
    x = torch.cat([preprocess(s.image, spec.input_hw, spec.mean, spec.std) for s in samples])
    d = F.interpolate(torch.stack([torch.from_numpy(s.density)[None] for s in samples]), size=spec.input_hw,
                      mode="bilinear")
    d = d / d.sum((2, 3), keepdim=True)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(steps):
        out_ = model(x)
        if spec.output_kind == "log_density":
            loss = -(d * out_).sum((2, 3)).mean()
        else:
            loss = F.binary_cross_entropy_with_logits(out_, d / d.amax((2, 3), keepdim=True))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return save_checkpoint(out / f"{spec_name}.pt", model.eval(), spec, {"note": "test"})


@pytest.fixture(scope="session")
def checkpoints(blob_dataset, tmp_path_factory) -> dict[str, Path]:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ckpt")
    return {name: _train(name, blob_dataset, out) for name in ("uva_tiny_readout", "uva_tiny")}


def _request(model: Path, blob_dataset: Path, out: Path, **kw) -> ExportRequest:
    base = dict(model=str(model), out=str(out), calib=str(blob_dataset / "stimuli"), parity_data=str(blob_dataset),
                parity_images=12, latency_runs=3)
    return ExportRequest(**{**base, **kw})


def _int8_tensors(path: Path) -> int:
    """Number of int8/uint8 tensors (weights or activations) stored in an artefact."""
    if path.suffix == ".onnx":
        import onnx

        model = onnx.load(str(path))
        types = (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)
        return sum(t.data_type in types for t in model.graph.initializer)
    if path.suffix == ".tflite":
        from ai_edge_litert.interpreter import Interpreter

        return sum(d["dtype"] == np.int8 for d in Interpreter(model_path=str(path)).get_tensor_details())
    return path.read_text().count('element_type="i8"') + path.read_text().count('element_type="u8"')


@pytest.mark.slow
@pytest.mark.parametrize("target,precision", CASES)
def test_export_target(target, precision, checkpoints, blob_dataset, tmp_path):
    thresholds = LENIENT_INT8 if precision == "int8" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "only 16 calibration images"
        [result] = export_model(_request(checkpoints["uva_tiny_readout"], blob_dataset, tmp_path,
                                         targets=(target,), precisions=(precision,), thresholds=thresholds))
    fmt = get_format(target)
    path = result.path
    assert result.passed, result.parity.failures
    assert path == tmp_path / fmt.artefact_name(f"uva_tiny_readout_{precision}") and path.is_file()
    assert not list(tmp_path.glob(".staging-*")) and not list(tmp_path.rglob("*.failed"))
    # parity was computed with fixations; fp32 is near exact
    p = result.parity
    assert p.images == 12 and p.dauc is not None and p.dnss is not None
    if precision == "fp32":
        assert p.cc > 0.999 and p.kl < 1e-3 and p.dauc <= 0.001
    # metadata: inside the artefact, and the same dict in the sidecar
    embedded = read_metadata(path)
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    assert embedded == sidecar
    for key in ("model", "input_hw", "mean", "std", "layout", "input_dtype", "output_kind", "edgesal_version",
                "source_sha256", "parity"):
        assert key in embedded, key
    assert embedded["output_kind"] == "log_density" and embedded["parity"]["passed"]
    assert embedded["source_sha256"] and len(embedded["source_sha256"]) == 64
    # the reference file lets a harness re-check parity without torch
    ref = np.load(path.with_name(path.name + ".ref.npz"))
    session = load_runtime(path)
    assert session.runtime_name == fmt.runtime and session.metadata == embedded
    got = session.run(ref["inputs"])
    assert got.shape == ref["outputs"].shape == (len(ref["inputs"]), 1, 64, 64)
    if precision == "fp32":
        np.testing.assert_allclose(got, ref["outputs"], atol=1e-3)
    if precision == "int8":
        assert _int8_tensors(path) > 10
        assert embedded["calibration"]["images"] == 16 and embedded["float_modules"] == ["head"]
        if target == "onnx":  # the head really stays float: none of its weights is quantised
            import onnx

            stored = [i.name for i in onnx.load(str(path)).graph.initializer]
            assert any(n.startswith("head.") for n in stored)
            assert not [n for n in stored if n.startswith("head.") and "quantized" in n]
    report = json.loads((tmp_path / "export_report.json").read_text())
    assert report["artefacts"][0]["passed"] and (tmp_path / "export_report.md").is_file()


@pytest.mark.slow
def test_tflite_sigmoid_nchw_float_io(checkpoints, blob_dataset, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        [result] = export_model(_request(checkpoints["uva_tiny"], blob_dataset, tmp_path, targets=("tflite",),
                                         precisions=("int8",), options=["layout=nchw", "io=float"],
                                         thresholds=LENIENT_INT8))
    session = load_runtime(result.path)
    assert session.layout == "nchw" and session.input_info.shape == (1, 3, 64, 64)
    assert session.input_info.dtype == np.float32 and session.output_info.dtype == np.float32
    assert session.metadata["output_kind"] == "sigmoid" and result.parity.cc > 0.9
    assert _int8_tensors(result.path) > 10


@pytest.mark.slow
def test_cli_export_predict_info(checkpoints, blob_dataset, tmp_path, capsys):
    from edgesal.cli.main import main
    from edgesal.predictors import load_predictor

    out = tmp_path / "out"
    code = main(["export", "--target", "onnx", "--model", str(checkpoints["uva_tiny_readout"]), "--out", str(out),
                 "--calib", str(blob_dataset / "stimuli"), "--parity-data", str(blob_dataset),
                 "--parity-images", "4"])
    assert code == 0
    text = capsys.readouterr().out
    assert "uva_tiny_readout_fp32.onnx" in text and "pass" in text
    artefact = out / "uva_tiny_readout_fp32.onnx"
    assert main(["info", "--model", str(artefact)]) == 0
    assert "log_density" in capsys.readouterr().out
    assert main(["predict", str(blob_dataset / "stimuli" / "img00.png"), "--out", str(tmp_path / "maps"),
                 "--model", str(artefact), "--format", "npy"]) == 0
    # the artefact predictor reproduces the torch predictor's map at image size
    from edgesal.data import load_rgb

    image = load_rgb(blob_dataset / "stimuli" / "img00.png")
    a = load_predictor(str(artefact)).predict(image)
    b = load_predictor(str(checkpoints["uva_tiny_readout"])).predict(image)
    assert a.shape == image.shape[:2] and np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.999


@pytest.mark.slow
def test_failed_parity_renames_and_exits_nonzero(checkpoints, blob_dataset, tmp_path, capsys):
    from edgesal.cli.main import main

    code = main(["export", "--target", "onnx", "--model", str(checkpoints["uva_tiny_readout"]), "--out",
                 str(tmp_path), "--calib", str(blob_dataset / "stimuli"), "--parity-data", str(blob_dataset),
                 "--parity-images", "4", "--min-cc", "1.0", "--max-kl", "0"])
    assert code == 2
    assert "parity failed" in capsys.readouterr().err
    assert (tmp_path / "uva_tiny_readout_fp32.onnx.failed").is_file()
    assert not (tmp_path / "uva_tiny_readout_fp32.onnx").exists()
    assert not (tmp_path / "uva_tiny_readout_fp32.onnx.json").exists()
    assert json.loads((tmp_path / "export_report.json").read_text())["artefacts"][0]["passed"] is False


def test_no_half_written_artefact_when_conversion_fails(checkpoints, blob_dataset, tmp_path, monkeypatch):
    from edgesal.export import onnx_export

    def broken(model, input_hw, path):
        Path(path).write_bytes(b"\x08partial")
        raise EdgesalError("onnx cannot convert op aten.boom (layer head)")

    monkeypatch.setattr(onnx_export, "torch_to_onnx", broken)
    with pytest.raises(EdgesalError, match="aten.boom"):
        export_model(_request(checkpoints["uva_tiny_readout"], blob_dataset, tmp_path, targets=("onnx",),
                              latency_runs=0))
    assert [p.name for p in tmp_path.iterdir()] == []


def _artefact_files(out: Path, name: str) -> dict[str, bytes]:
    """Every file of artefact ``name`` (loadable file or folder, sidecars) → its bytes."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob(f"{name}*"))
            if p.is_file() and ".failed" not in p.as_posix()}


FAILING_GATE = ["--min-cc", "1.0", "--max-kl", "0"]  # valid, but only a bit-exact artefact could pass


@pytest.mark.slow
def test_failed_reexport_keeps_the_good_artefact(checkpoints, blob_dataset, tmp_path, capsys):
    from edgesal.cli.main import main

    out, name = tmp_path / "out", "uva_tiny_readout_fp32.onnx"
    argv = ["export", "--target", "onnx", "--model", str(checkpoints["uva_tiny_readout"]), "--out", str(out),
            "--parity-data", str(blob_dataset), "--parity-images", "4"]
    assert main(argv) == 0
    good = _artefact_files(out, name)
    assert set(good) == {name, name + ".json", name + ".ref.npz"}
    # a re-export failing its gate goes to .failed; the good artefact and its sidecars stay byte-identical
    assert main(argv + FAILING_GATE) == 2
    assert "parity failed" in capsys.readouterr().err
    assert _artefact_files(out, name) == good and (out / (name + ".failed")).is_file()
    assert not list(out.glob(".staging-*"))
    report = json.loads((out / "export_report.json").read_text())
    rows = {Path(r["file"]).name: r["passed"] for r in report["artefacts"]}
    assert rows == {name: True, name + ".failed": False}  # the earlier artefact stays in the report
    assert name in (out / "export_report.md").read_text()
    # a second failure replaces only the older .failed
    assert main(argv + FAILING_GATE) == 2 and _artefact_files(out, name) == good
    # a passing re-export replaces the artefact with consistent sidecars and removes the stale .failed
    assert main(argv) == 0
    assert not (out / (name + ".failed")).exists() and not list(out.glob(".staging-*"))
    assert read_metadata(out / name) == json.loads((out / (name + ".json")).read_text())
    rows = [Path(r["file"]).name for r in json.loads((out / "export_report.json").read_text())["artefacts"]]
    assert rows == [name]


@pytest.mark.slow
def test_failed_reexport_keeps_the_good_openvino_folder(checkpoints, blob_dataset, tmp_path):
    pytest.importorskip("openvino")
    request = dict(targets=("openvino",), latency_runs=0, parity_images=4)
    [first] = export_model(_request(checkpoints["uva_tiny_readout"], blob_dataset, tmp_path, **request))
    assert first.passed
    folder = first.path.parent
    good = _artefact_files(tmp_path, folder.name)
    [failed] = export_model(_request(checkpoints["uva_tiny_readout"], blob_dataset, tmp_path,
                                     thresholds={"min_cc": 1.0, "max_kl": 0.0}, **request))
    assert not failed.passed and failed.path == folder.with_name(folder.name + ".failed") and failed.path.is_dir()
    assert _artefact_files(tmp_path, folder.name) == good
    [again] = export_model(_request(checkpoints["uva_tiny_readout"], blob_dataset, tmp_path, **request))
    assert again.passed and again.path.is_file() and not failed.path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, "export_report.json", "export_report.md"])


def test_interrupted_reexport_keeps_the_good_artefact(checkpoints, blob_dataset, tmp_path, monkeypatch):
    from edgesal.export import pipeline

    [first] = export_model(_request(checkpoints["uva_tiny_readout"], blob_dataset, tmp_path, latency_runs=0,
                                    parity_images=4))
    good = _artefact_files(tmp_path, first.path.name)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "compare", interrupted)  # Ctrl-C after conversion, during the gate
    with pytest.raises(KeyboardInterrupt):
        export_model(_request(checkpoints["uva_tiny_readout"], blob_dataset, tmp_path, latency_runs=0,
                              parity_images=4))
    assert _artefact_files(tmp_path, first.path.name) == good
    assert not list(tmp_path.glob(".staging-*")) and not list(tmp_path.glob("*.failed"))


def test_imgsz_the_network_cannot_take_is_one_line(checkpoints, blob_dataset, tmp_path):
    with pytest.raises(EdgesalError, match=r"--imgsz 40 56: uva_tiny_readout .* multiples of 32"):
        export_model(_request(checkpoints["uva_tiny_readout"], blob_dataset, tmp_path, imgsz=(40, 56)))
    assert not list(tmp_path.iterdir())


def test_int8_parity_gate_is_not_loosened():
    from edgesal.export.parity import DEFAULT_THRESHOLDS

    assert DEFAULT_THRESHOLDS["int8"].max_dnss == 0.05


def test_unknown_names_suggest_the_closest():
    with pytest.raises(EdgesalError, match="did you mean 'tflite'"):
        get_format("tflit")
    with pytest.raises(EdgesalError, match="did you mean 'int8'"):
        check_precision(get_format("onnx"), "int88")
    with pytest.raises(EdgesalError, match="supported: fp32, int8"):
        check_precision(get_format("tflite"), "fp16")
    with pytest.raises(EdgesalError, match="did you mean 'layout'"):
        parse_options(get_format("tflite"), ["layot=nhwc"])
    with pytest.raises(EdgesalError, match="not one of"):
        parse_options(get_format("tflite"), ["layout=nwhc"])
    assert parse_options(get_format("tflite"), ["layout=NCHW"])["layout"] == "nchw"


def test_cli_unknown_target(capsys):
    from edgesal.cli.main import main

    assert main(["export", "--target", "onnnx", "--model", "uva_tiny"]) == 2
    assert "did you mean 'onnx'" in capsys.readouterr().err


def test_calibration_folder_errors_and_corrupt_images(tmp_path, blob_dataset):
    from edgesal.export.calibration import load_calibration

    with pytest.raises(EdgesalError, match="not found"):
        load_calibration(tmp_path / "missing", (64, 64), (0.5,) * 3, (0.5,) * 3)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EdgesalError, match="no images"):
        load_calibration(tmp_path / "empty", (64, 64), (0.5,) * 3, (0.5,) * 3)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name in ("img00.png", "img01.png"):
        (mixed / name).write_bytes((blob_dataset / "stimuli" / name).read_bytes())
    (mixed / "broken.jpg").write_bytes(b"not a jpeg")
    (mixed / "truncated.png").write_bytes((blob_dataset / "stimuli" / "img02.png").read_bytes()[:40])
    with pytest.warns(UserWarning, match="skipped 2 unreadable"):
        calib = load_calibration(mixed, (64, 64), (0.5,) * 3, (0.5,) * 3)
    assert len(calib) == 2 and len(calib.skipped) == 2
    assert calib.batches[0].shape == (1, 3, 64, 64) and calib.batches[0].dtype == np.float32
    (mixed / "img00.png").unlink()
    (mixed / "img01.png").unlink()
    with pytest.raises(EdgesalError, match="no readable calibration images"):
        load_calibration(mixed, (64, 64), (0.5,) * 3, (0.5,) * 3)


def test_default_calibration_set_is_complete():
    from edgesal.export.calibration import default_calibration_dir, list_calibration_images

    folder = default_calibration_dir()  # inside the package: a wheel carries it
    assert folder.is_relative_to(Path(edgesal.__file__).parent)
    manifest = json.loads((folder / "manifest.json").read_text())
    files = {f["file"] for f in manifest["files"]}
    images = list_calibration_images(folder)
    assert len(images) == len(files) >= 100
    assert {p.relative_to(folder).as_posix() for p in images} == files
    assert all(f["split"] == "train" for f in manifest["files"])  # parity runs on OSIE test
    assert "MIT" in manifest["licence"] and "MIT License" in (folder / "LICENSE").read_text()


def test_missing_optional_package_names_the_extra(monkeypatch, tmp_path):
    from edgesal.export.tflite_export import export_tflite
    from edgesal.models import build_model, get_spec

    monkeypatch.setitem(sys.modules, "litert_torch", None)
    spec = get_spec("uva_tiny")
    with pytest.raises(EdgesalError, match=r"pip install 'edgesal\[tflite\]'"):
        export_tflite(build_model(spec), spec, "fp32", None, tmp_path / "m.tflite", {})


def test_conversion_error_names_op_and_layer():
    from edgesal.export.conversion_errors import conversion_error
    from edgesal.models import build_model, get_spec

    spec = get_spec("uva_tiny_readout")
    err = conversion_error("tflite", RuntimeError("Lowering not found: aten.upsample_bilinear2d.vec"),
                           build_model(spec).eval(), torch.zeros(1, 3, 64, 64))
    assert "aten.upsample_bilinear2d" in str(err) and "(layer head)" in str(err)


@pytest.mark.parametrize("suffix", sorted({f.suffix for f in EXPORT_FORMATS.values()}))
def test_runtime_rejects_files_of_the_wrong_format(tmp_path, suffix):
    bogus = tmp_path / f"model{suffix}"
    bogus.write_bytes(b"\x00\x01 this is not a model")
    with pytest.raises(EdgesalError):
        load_runtime(bogus)
    with pytest.raises(EdgesalError, match="not found"):
        load_runtime(tmp_path / f"absent{suffix}")


def test_docs_target_table_matches_the_code():
    docs = Path(__file__).resolve().parents[1] / "docs" / "export.md"
    assert formats_markdown() in docs.read_text()


def test_keeping_float_adds_the_leading_modules_to_the_float_part(checkpoints, tmp_path):
    import onnx

    from edgesal.export.float_head import float_modules, keeping_float, leading_modules, onnx_float_nodes
    from edgesal.export.onnx_export import torch_to_onnx
    from edgesal.models import build_model, load_checkpoint

    assert leading_modules(build_model("fastsal_a_mnv2_readout"), 3) == [
        "backbone.stem", "backbone.blocks.0", "backbone.blocks.1"]
    model, spec, _ = load_checkpoint(checkpoints["uva_tiny_readout"])
    graph = onnx.load(str(torch_to_onnx(model, spec.input_hw, tmp_path / "m.onnx")))
    head_only = onnx_float_nodes(graph)
    first = leading_modules(model, 1)
    with keeping_float(first):
        assert float_modules() == ("head", *first)
        more = onnx_float_nodes(graph)
    assert float_modules() == ("head",) and set(head_only) < set(more)


def test_failing_int8_is_retried_with_more_of_the_backbone_float(checkpoints, blob_dataset, tmp_path, capsys):
    """An int8 artefact that fails the gate is converted again with the backbone's first 1, 2, …
    modules float; the gate itself never changes (here it cannot pass: CC must be 1)."""
    from edgesal.cli.main import main
    from edgesal.export.float_head import leading_modules
    from edgesal.export.pipeline import MAX_FLOAT_FALLBACK
    from edgesal.models import load_checkpoint

    code = main(["export", "--target", "onnx", "--int8", "--model", str(checkpoints["uva_tiny_readout"]), "--out",
                 str(tmp_path), "--calib", str(blob_dataset / "stimuli"), "--parity-data", str(blob_dataset),
                 "--parity-images", "4", "--min-cc", "1.0"])
    err = capsys.readouterr().err
    assert code == 2 and "parity failed" in err
    model, _, _ = load_checkpoint(checkpoints["uva_tiny_readout"])
    leading = leading_modules(model, MAX_FLOAT_FALLBACK)
    assert err.count("retry keeping") == len(leading) >= 4  # every module up to MAX_FLOAT_FALLBACK
    failed = tmp_path / "uva_tiny_readout_int8.onnx.failed"
    shutil.copy(failed, tmp_path / "last_attempt.onnx")
    assert read_metadata(tmp_path / "last_attempt.onnx")["float_modules"] == ["head", *leading]
    assert not (tmp_path / "uva_tiny_readout_int8.onnx").exists() and not list(tmp_path.glob(".staging-*"))
