"""Android readiness: standard TFLite metadata read by a real client (MediaPipe Tasks), the
I/O variants and their names, and export/android's plain-Kotlin core compiled with kotlinc
and checked on the JVM against references written here (bytes, crops, colours, metadata).

MediaPipe and the Kotlin compiler are optional: each test skips and says why when its tool
cannot be installed (``pip install mediapipe``; ``scripts/kotlin_setup.sh`` for kotlinc).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from shared_paths import SHARED

from edgesal.export import ExportRequest, export_model
from edgesal.runtimes import load_runtime

ROOT = Path(__file__).resolve().parents[1]
ANDROID = ROOT / "export" / "android" / "saliency" / "src"
KOTLIN_HOME = Path(os.environ.get("EDGESAL_KOTLIN_HOME", Path.home() / ".cache" / "edgesal" / "kotlin"))
LENIENT_INT8 = {"min_cc": 0.9, "max_kl": 0.2, "max_dauc": 0.05, "max_dnss": 0.3}  # mechanics, not quality
MIN_CC = 0.99  # MediaPipe's map against edgesal's runtime
OSIE = SHARED / "data" / "osie"


def _export(model: str, out: Path, options: list[str], **kw) -> Path:
    """One int8 TFLite artefact (parity gate applied; ``kw`` overrides the request)."""
    base = dict(model=model, targets=("tflite",), precisions=("int8",), out=str(out), options=options,
                latency_runs=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "only 16 calibration images"
        [result] = export_model(ExportRequest(**{**base, **kw}))
    assert result.passed, result.parity.failures
    return result.path


@pytest.fixture(scope="session")
def tiny_tflite(blob_dataset, tmp_path_factory) -> dict[str, Path]:
    """The tiny model's int8 TFLite in both I/O variants (io=float is the default)."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("tiny_tflite")
    kw = dict(calib=str(blob_dataset / "stimuli"), parity_data=str(blob_dataset), parity_images=4,
              thresholds=LENIENT_INT8)
    variants = {"float": [], "int8": ["io=int8"]}
    return {io: _export("uva_tiny_readout", out, options, **kw) for io, options in variants.items()}


def test_artefact_names_say_the_io_variant(tiny_tflite):
    assert tiny_tflite["float"].name == "uva_tiny_readout_int8.tflite"
    assert tiny_tflite["int8"].name == "uva_tiny_readout_int8_io-int8.tflite"


def test_default_int8_has_float_pixels_input_and_standard_metadata(tiny_tflite):
    from ai_edge_litert import schema_py_generated as schema

    from edgesal.export import tflite_metadata_schema as fb

    for io, path in tiny_tflite.items():
        session = load_runtime(path)
        assert session.input_info.dtype == (np.float32 if io == "float" else np.int8)
        assert session.metadata["model"] == "uva_tiny_readout"  # edgesal's own entry still reads
        buf = path.read_bytes()
        model = schema.Model.GetRootAs(buf, 0)
        names = [model.Metadata(i).Name().decode() for i in range(model.MetadataLength())]
        assert "edgesal" in names and "TFLITE_METADATA" in names
        entry = model.Metadata(names.index("TFLITE_METADATA"))
        data = model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
        assert fb.ModelMetadata.ModelMetadataBufferHasIdentifier(data, 0)
        meta = fb.ModelMetadataT.InitFromObj(fb.ModelMetadata.GetRootAs(data, 0))
        tensor = meta.subgraphMetadata[0].inputTensorMetadata[0]
        norm = tensor.processUnits[0].options
        assert tensor.content.contentProperties.colorSpace == fb.ColorSpaceType.RGB
        if io == "float":  # pixel / 255 → RGB in [0, 1]; the graph normalises
            assert list(norm.mean) == [0.0] and list(norm.std) == [255.0]
        else:
            np.testing.assert_allclose(norm.mean, 255 * np.array(session.metadata["mean"]), rtol=1e-6)
        out = meta.subgraphMetadata[0].outputTensorMetadata[0]
        assert out.content.contentProperties.colorSpace == fb.ColorSpaceType.GRAYSCALE
        assert out.associatedFiles[0].name == b"labels.txt"


def _mediapipe():
    try:
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python.vision import ImageSegmenter, ImageSegmenterOptions
    except ImportError as exc:
        pytest.skip(f"mediapipe is not installed ({exc}): pip install mediapipe")
    return BaseOptions, ImageSegmenter, ImageSegmenterOptions


def _images(hw: tuple[int, int], n: int) -> list[np.ndarray]:
    """RGB uint8 test images at the model's size (OSIE test images when ../shared has them)."""
    if not OSIE.exists():
        rng = np.random.default_rng(0)
        return [(rng.random((*hw, 3)) * 255).astype(np.uint8) for _ in range(n)]
    from edgesal.data import open_dataset
    from edgesal.imaging import resize_rgb

    dataset = open_dataset("osie", split="test")
    return [resize_rgb(dataset.load(stem).image, hw) for stem in dataset.stems()[:n]]


def mediapipe_cc(path: Path, n: int = 4) -> tuple[float, float]:
    """(min CC, max |Δ log map|) of MediaPipe ImageSegmenter's map vs edgesal's runtime."""
    import mediapipe as mp

    from edgesal.metrics import cc

    base, segmenter_cls, options_cls = _mediapipe()
    session = load_runtime(path)
    mean = np.asarray(session.metadata["mean"], np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(session.metadata["std"], np.float32).reshape(1, 3, 1, 1)
    options = options_cls(base_options=base(model_asset_path=str(path)), output_confidence_masks=True,
                          output_category_mask=False)
    ccs, diffs = [], []
    with segmenter_cls.create_from_options(options) as segmenter:
        for image in _images(session.input_hw, n):
            got = segmenter.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=image))
            mask = got.confidence_masks[0].numpy_view()[..., 0]
            x = (image.astype(np.float32).transpose(2, 0, 1)[None] / 255 - mean) / std
            ours = session.run(x)[0, 0]
            ccs.append(float(cc(np.exp(mask), np.exp(ours))))
            diffs.append(float(np.abs(mask - ours).max()))
    return min(ccs), max(diffs)


def test_mediapipe_runs_the_tiny_default_export(tiny_tflite):
    low, diff = mediapipe_cc(tiny_tflite["float"])
    assert low >= MIN_CC and diff < 1e-3


@pytest.fixture(scope="session")
def shipped_tflite(tmp_path_factory) -> Path:
    """Where default/fast are exported once per session (``--int8``, default calibration)."""
    return tmp_path_factory.mktemp("shipped_tflite")


@pytest.mark.slow
@pytest.mark.parametrize("model", ["default", "fast"])
def test_mediapipe_runs_shipped_int8(model, shipped_tflite):
    """The artefact ``edgesal export --target tflite --int8 --model MODEL`` writes (default
    calibration set, parity gate on 20 OSIE test images), loaded by MediaPipe as it is."""
    _mediapipe()
    torch.set_num_threads(1)
    path = _export(model, shipped_tflite, [], **({} if OSIE.exists() else {"parity_data": None}))
    assert path.name == f"{model}_int8.tflite"
    low, _ = mediapipe_cc(path)
    assert low >= MIN_CC, f"{model}: MediaPipe CC {low:.4f}"


# --- the Kotlin core ------------------------------------------------------------------------


def _kotlin() -> tuple[Path, str]:
    """(kotlinc, java) or a skip with the reason."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("no java on PATH (the Kotlin core test needs a JDK ≥ 17)")
    kotlinc = Path(os.environ.get("EDGESAL_KOTLINC", KOTLIN_HOME / "node_modules/kotlin-compiler/bin/kotlinc"))
    if not kotlinc.is_file():
        pytest.skip(f"no Kotlin compiler at {kotlinc}: run scripts/kotlin_setup.sh (npm install kotlin-compiler)")
    return kotlinc, java


def _sources() -> list[Path]:
    return sorted((ANDROID / "main/kotlin").rglob("core/*.kt")) + sorted((ANDROID / "test/kotlin").rglob("*.kt"))


@pytest.fixture(scope="session")
def core_jar(tmp_path_factory) -> tuple[Path, str]:
    """The core + its test main compiled into a jar (cached by the sources' hash)."""
    kotlinc, java = _kotlin()
    sources = _sources()
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    jar = KOTLIN_HOME / "build" / f"core-{digest}.jar"
    if not jar.is_file():
        jar.parent.mkdir(parents=True, exist_ok=True)
        staged = tmp_path_factory.mktemp("kotlin") / jar.name
        done = subprocess.run([str(kotlinc), "-nowarn", "-jvm-target", "17", "-include-runtime", "-d", str(staged),
                               *map(str, sources)], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"kotlinc failed:\n{done.stderr[-3000:]}"
        os.replace(staged, jar)
    return jar, java


def _preprocess_case(name: str, path: Path, argb: np.ndarray, rgb: np.ndarray) -> dict:
    """What edgesal feeds the artefact's input tensor for these pixels (flattened)."""
    from edgesal.predictors.torch_model import preprocess
    from edgesal.runtimes.litert import takes_pixels

    session = load_runtime(path)
    meta = session.metadata
    x = preprocess(rgb, session.input_hw, meta["mean"], meta["std"]).numpy()
    input_name = session.model.interpreter.get_input_details()[0]["name"]
    if takes_pixels(input_name):  # the tensor holds RGB in [0, 1]: edgesal's preprocessing before (x − mean) / std
        tensor = torch.from_numpy(rgb).float().div_(255.0).numpy()[None]
        expected = tensor if meta["layout"] == "nhwc" else tensor.transpose(0, 3, 1, 2)
    else:
        expected = session.prepare(x)
    case = {"name": name, "meta": meta, "input_name": input_name, "expected": expected.ravel().tolist()}
    if session.input_info.quantized:  # what the int8 values stand for: (q − zero_point) · scale, float32
        info = session.input_info
        real = (expected.astype(np.float32) - np.float32(info.zero_point)) * np.float32(info.scale)
        case["dequantized"] = real.ravel().tolist()
    return case


def _references(tiny: dict[str, Path], hw: tuple[int, int]) -> dict:
    from edgesal.cropping import search
    from edgesal.cropping.aspect import parse_aspect
    from edgesal.prediction import _jet, overlay
    from edgesal.predictors.torch_model import preprocess

    rng = np.random.default_rng(1)
    rgb = (rng.random((*hw, 3)) * 255).astype(np.uint8)
    argb = (0xFF << 24) | (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    cases = [_preprocess_case(io, p, argb, rgb) for io, p in tiny.items()]
    meta = cases[0]["meta"]  # + a float input without in-graph normalisation (older exports, third-party models)
    x = preprocess(rgb, hw, meta["mean"], meta["std"]).numpy().transpose(0, 2, 3, 1)
    normalised = dict(cases[0], name="normalised", input_name="args_0", expected=x.ravel().tolist())
    yy, xx = np.mgrid[: hw[0], : hw[1]]
    blob = np.exp(-((yy - 0.3 * hw[0]) ** 2 + (xx - 0.7 * hw[1]) ** 2) / 128.0) + 0.01 * rng.random(hw)
    saliency = (blob / blob.sum()).astype(np.float32)  # a blob that zoomed crops trade off against the penalty
    crops = []
    for aspect, zoom in [("1:1", 1.0), ("9:16", 1.0), ("16:9", 1.0), ("4:5", 2.0), ("1:1", 3.0), ("9:16", 1.5)]:
        c = search.best_crop(saliency, aspect, zoom=zoom)
        crops.append({"aspect": aspect, "ratio": parse_aspect(aspect).ratio, "zoom": zoom, "sharpen": search.SHARPEN,
                      "center_weight": search.CENTER_WEIGHT, "expected": [c.x, c.y, c.w, c.h, c.score]})
    values = np.concatenate([np.linspace(0, 1, 33), rng.random(30), [-0.5, 1.5]])
    jet = _jet(values)
    blended = overlay(rgb, saliency)
    py, px = search.point_window(saliency, 1, 1)
    return {
        "argb": argb.ravel().tolist(),
        "preprocess": [*cases, normalised],
        "map": {"h": hw[0], "w": hw[1], "values": saliency.ravel().astype(float).tolist()},
        "crops": crops,
        "jet": [[float(v), int((0xFF << 24) | (int(r) << 16) | (int(g) << 8) | int(b))]
                for v, (r, g, b) in zip(values, jet)],
        "overlay": [int((0xFF << 24) | (int(r) << 16) | (int(g) << 8) | int(b)) for r, g, b in blended.reshape(-1, 3)],
        "salient_point": [px, py],
        "models": [{"path": str(p), "input_name": c["input_name"], "input_kind": "PIXELS" if io == "float" else "INT8",
                    "input_hw": list(hw), "scale": (c["meta"]["input_quantization"] or {}).get("scale")}
                   for (io, p), c in zip(tiny.items(), cases)],
    }


def test_kotlin_core_matches_python(core_jar, tiny_tflite, tmp_path):
    jar, java = core_jar
    hw = tuple(load_runtime(tiny_tflite["float"]).input_hw)
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(_references(tiny_tflite, hw)))
    done = subprocess.run([java, "-cp", str(jar), "org.edgesal.saliency.core.CoreTestKt", str(cases)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert " 0 failed" in done.stdout, done.stdout
    print(done.stdout.strip())
