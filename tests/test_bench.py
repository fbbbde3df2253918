"""``edgesal bench``: runner statistics and interleaving, devices (local, a real local sshd, a
fake adb), the benchmark_model parser on recorded output, reports, and one-line errors."""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edgesal.bench.benchmark_model import parse_benchmark_output
from edgesal.bench.devices import DeviceOptions, open_device
from edgesal.bench.harness import BenchRequest, run_bench, summarise_results
from edgesal.bench.report import load_document, to_html, write_reports
from edgesal.cli.main import main
from edgesal.errors import EdgesalError
from edgesal.runtimes import device_info, timing

DATA = Path(__file__).parent / "data" / "benchmark_model"


def _quick(models, **kw) -> BenchRequest:
    return BenchRequest(models=[str(m) for m in models], runs=kw.pop("runs", 5), warmup=kw.pop("warmup", 1), **kw)


# ---------------------------------------------------------------------------- statistics / interleaving


def test_summarise_known_samples():
    stats = timing.summarise([4.0, 1.0, 3.0, 2.0, 10.0])
    assert stats["median_ms"] == 3.0 and stats["min_ms"] == 1.0 and stats["max_ms"] == 10.0
    assert stats["fps"] == pytest.approx(1000 / 3)
    assert stats["p90_ms"] == pytest.approx(7.6) and stats["p99_ms"] == pytest.approx(9.76)


def test_interleave_runs_models_alternately_after_warmup():
    calls: list[str] = []
    ticks = iter(range(1000))
    fake_clock = lambda: next(ticks) / 1000.0  # noqa: E731 - every call advances 1 ms
    times = timing.interleave([lambda: calls.append("A"), lambda: calls.append("B")], runs=3, warmup=2,
                              clock=fake_clock)
    assert calls == ["A", "A", "B", "B"] + ["A", "B"] * 3
    assert [len(t) for t in times] == [3, 3]
    assert all(t == pytest.approx(1.0) for series in times for t in series)


def test_ratios_are_paired_per_round_against_the_first_model():
    # a drift that hits both models alike: paired ratios stay exactly 2
    base = [1.0, 2.0, 4.0, 8.0]
    raw = [{"model": "a", "runtime": "onnxruntime", "threads": 1, "latencies_ms": base},
           {"model": "b", "runtime": "litert", "threads": 1, "latencies_ms": [2 * x for x in base]},
           {"model": "a", "runtime": "onnxruntime", "threads": 2, "latencies_ms": [1.0] * 4},
           {"model": "b", "runtime": "litert", "threads": 2, "latencies_ms": [0.5] * 4}]
    rows = summarise_results(raw, target_fps=30.0, emulated=False)
    assert [r["ratio_to_first"] for r in rows] == [1.0, 2.0, 1.0, 0.5]
    assert rows[0]["meets_target"] is True
    assert all(r["meets_target"] is None for r in summarise_results(raw, 30.0, emulated=True))


def test_parse_cpuinfo_arm_features():
    text = ("processor\t: 0\nFeatures\t: fp asimd evtstrm crc32 cpuid asimdhp asimddp\nCPU part\t: 0xd0b\n\n"
            "processor\t: 4\nFeatures\t: fp asimd asimddp\nCPU part\t: 0xd05\n\nModel\t: Pixel Test Board\n")
    info = device_info.parse_cpuinfo(text)
    assert info["isa"] == ["neon", "fp16", "dotprod"]
    assert info["cpu_cores_kind"] == ["Cortex-A76", "Cortex-A55"] and info["cpu_model"] == "Pixel Test Board"


# ---------------------------------------------------------------------------- benchmark_model parser


def test_parser_recent_format_with_percentiles():
    out = parse_benchmark_output((DATA / "am62x_cpu.txt").read_text())
    s = out["stats"]
    assert s["n"] == 50 and s["median_from"] == "median"
    assert s["median_ms"] == pytest.approx(1239.807) and s["p5_ms"] == pytest.approx(1238.753)
    assert s["p95_ms"] == pytest.approx(1247.415) and s["mean_ms"] == pytest.approx(1240.27)
    assert s["min_ms"] == pytest.approx(1238.588) and s["fps"] == pytest.approx(1000 / 1239.807)
    assert out["load_ms"] == pytest.approx(5.579) and out["first_ms"] == pytest.approx(1357.602)
    assert out["memory"] == {"init_mb": 6.36328, "overall_mb": 109.832}
    assert parse_benchmark_output((DATA / "am62x_xnnpack.txt").read_text())["stats"]["median_ms"] == \
        pytest.approx(899.281)


def test_parser_old_format_ignores_operator_profiling_lines():
    out = parse_benchmark_output((DATA / "riscv_op_profiling.txt").read_text())
    # the timed run (avg 2.95034e+06 us), not the profiler's "Timings (microseconds): … avg=2.9499e+06"
    assert out["stats"]["mean_ms"] == pytest.approx(2950.34) and out["stats"]["n"] == 50
    assert out["stats"]["median_from"] == "avg" and out["stats"]["p95_ms"] is None
    assert out["memory"]["overall_mb"] == pytest.approx(46.0859)


def test_parser_android_output_and_logcat_prefix():
    out = parse_benchmark_output((DATA / "mi11_android_cpu.txt").read_text())
    assert out["stats"]["median_ms"] == pytest.approx(249.684)
    assert out["memory"] == {"init_mb": 4.92969, "overall_mb": 138.809}
    logcat = "".join(f"08-17 21:47:49.138 29423 29423 I tflite  : {ln.removeprefix('INFO: ')}\n"
                     for ln in (DATA / "am62x_cpu.txt").read_text().splitlines())
    assert parse_benchmark_output(logcat)["stats"]["median_ms"] == pytest.approx(1239.807)


def test_parser_failed_run_is_one_line_error():
    with pytest.raises(EdgesalError) as err:
        parse_benchmark_output((DATA / "mi11_android_nnapi_failed.txt").read_text())
    assert "ANEURALNETWORKS_OP_FAILED" in str(err.value) and "\n" not in str(err.value)


# ---------------------------------------------------------------------------- local device + reports


def test_local_bench_interleaved_report_and_rebuild(tiny_onnx, tmp_path):
    doc = run_bench(_quick([tiny_onnx, "uva_tiny_readout"], threads=[1, 2]))
    assert [(r["model"], r["threads"]) for r in doc["results"]] == [
        (tiny_onnx.name, 1), ("uva_tiny_readout", 1), (tiny_onnx.name, 2), ("uva_tiny_readout", 2)]
    assert [r["runtime"] for r in doc["results"][:2]] == ["onnxruntime", "torch"]
    first = doc["results"][0]
    assert first["ratio_to_first"] == 1.0 and len(first["latencies_ms"]) == 5
    assert first["fps"] == pytest.approx(1000 / first["median_ms"]) and first["meets_target"] in (True, False)
    assert doc["memory"][tiny_onnx.name]["peak_rss_mb"] > doc["memory"][tiny_onnx.name]["model_peak_rss_mb"] > 0
    assert doc["parity"][tiny_onnx.name]["passed"] and doc["parity"][tiny_onnx.name]["cc_mean"] > 0.999
    assert doc["device"]["emulated"] is False and doc["device"]["cores"] >= 1
    assert "numpy" in doc["device"]["libraries"]

    paths = write_reports(doc, tmp_path / "rep")
    assert {p.name for p in paths.values()} == {"bench.json", "bench.md", "bench.html"}
    page = paths["html"].read_text()
    assert "<svg" in page and tiny_onnx.name in page
    for external in ("src=", "href=", "<script", "<link", "url(", "@import"):
        assert external not in page, f"HTML report is not self-contained: {external}"
    assert "| uva_tiny_readout | torch |" in paths["markdown"].read_text()

    before = page
    paths["html"].unlink()
    paths["markdown"].unlink()
    assert main(["report", str(tmp_path / "rep")]) == 0
    assert paths["html"].read_text() == before and paths["markdown"].exists()
    assert load_document(paths["json"])["results"][0]["model"] == tiny_onnx.name


def test_cli_bench_writes_json_and_report(tiny_onnx, tmp_path, capsys):
    rc = main(["bench", str(tiny_onnx), "--runs", "3", "--warmup", "1", "--no-memory", "--target-fps", "1",
               "--json", str(tmp_path / "out.json"), "--report", str(tmp_path / "rep"), "--strict"])
    assert rc == 0
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["verdict"] == {"fps": "pass", "parity": "pass"} and doc["config"]["target_fps"] == 1.0
    assert (tmp_path / "rep" / "bench.html").exists()
    assert "Latency" in capsys.readouterr().out


def test_parity_failure_is_reported_and_strict_fails(tiny_onnx, tmp_path, capsys):
    import numpy as np

    model = tmp_path / "wrong_refs.onnx"
    shutil.copy(tiny_onnx, model)
    with np.load(f"{tiny_onnx}.ref.npz") as ref:
        noise = np.random.default_rng(0).normal(size=ref["outputs"].shape).astype(np.float32)
        np.savez(f"{model}.ref.npz", inputs=ref["inputs"], outputs=noise, output_kind=ref["output_kind"])
    doc = run_bench(_quick([model], memory=False))
    assert doc["parity"]["wrong_refs.onnx"]["passed"] is False and doc["verdict"]["parity"] == "fail"
    assert main(["bench", str(model), "--runs", "2", "--no-memory", "--target-fps", "1", "--strict"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == "error: bench failed: FPS pass, parity fail"


def test_parity_threshold_is_the_export_gate(tiny_onnx, tmp_path):
    from edgesal.export.parity import DEFAULT_THRESHOLDS

    for precision in ("fp32", "int8"):
        model = tmp_path / precision / tiny_onnx.name
        model.parent.mkdir()
        for path in tiny_onnx.parent.glob(tiny_onnx.name + "*"):
            shutil.copy(path, model.parent / path.name)
        sidecar = Path(f"{model}.json")
        sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "precision": precision}))
        doc = run_bench(_quick([model], runs=1, warmup=0, memory=False))
        assert doc["parity"][model.name]["min_cc"] == DEFAULT_THRESHOLDS[precision].min_cc


def test_unreadable_reference_fails_before_timing(tiny_onnx, tmp_path, monkeypatch):
    from edgesal.bench.devices.local import LocalDevice

    model = tmp_path / tiny_onnx.name
    shutil.copy(tiny_onnx, model)
    Path(f"{model}.ref.npz").write_bytes(Path(f"{tiny_onnx}.ref.npz").read_bytes()[:100])
    monkeypatch.setattr(LocalDevice, "bench", lambda *a, **k: pytest.fail("the models were timed"))
    with pytest.raises(EdgesalError, match=r"ref\.npz: unreadable reference file"):
        run_bench(_quick([model]))


def test_real_image_input_is_preprocessed_per_model(tiny_onnx, tmp_path):
    from PIL import Image

    image = tmp_path / "photo.png"
    Image.new("RGB", (120, 90), (200, 30, 60)).save(image)
    doc = run_bench(_quick([tiny_onnx], image=str(image), parity=False, memory=False))
    assert doc["config"]["input"] == str(image) and doc["results"][0]["input_shape_nchw"] == [1, 3, 64, 64]


def test_html_marks_emulated_runs():
    doc = {"schema": "edgesal-bench/1", "created": "now", "edgesal_version": "0",
           "device": {"spec": "qemu-aarch64", "emulated": True, "cpu_model": "Neoverse-N1"}, "host": None,
           "config": {"target_fps": 30.0, "runs": 1, "warmup": 0, "input": "random"},
           "results": summarise_results([{"model": "m", "runtime": "litert", "threads": 1, "latencies_ms": [50.0]}],
                                        30.0, emulated=True),
           "memory": {}, "parity": {}, "verdict": {"fps": "not compared (emulated timings)", "parity": "none"}}
    page = to_html(doc)
    assert "EMULATED" in page and "never compared" in page and ">emulated<" in page


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("argv, message", [
    (["bench", "{txt}"], "not a model file"),
    (["bench", "missing.onnx"], "model file not found"),
    (["bench", "{onnx}", "--runtime", "onnxrt"], "did you mean 'onnxruntime'"),
    (["bench", "{onnx}", "--runtime", "litert"], "cannot open"),
    (["bench", "{onnx}", "--device", "sssh:me@host"], "did you mean 'ssh'"),
    (["bench", "{onnx}", "--device", "adb"], "needs an address"),
    (["bench", "{onnx}", "--threads", "1,x"], "--threads"),
    (["bench", "{renamed}"], "not a valid .tflite model"),
    (["report", "{tmp}"], "no bench report"),
])
def test_user_errors_are_one_line(argv, message, tiny_onnx, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a model")
    (tmp_path / "renamed.tflite").write_text("plain text, not a flatbuffer")
    fill = {"{txt}": str(tmp_path / "notes.txt"), "{onnx}": str(tiny_onnx), "{tmp}": str(tmp_path),
            "{renamed}": str(tmp_path / "renamed.tflite")}
    assert main([fill.get(a, a) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)


def test_runner_failure_is_one_line(tiny_onnx, tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08" + b"\xff" * 64)  # passes the sniff, not a valid ONNX graph
    with pytest.raises(EdgesalError) as err:
        run_bench(_quick([broken], parity=False, memory=False))
    assert str(err.value).startswith("local: ") and "\n" not in str(err.value)


# ---------------------------------------------------------------------------- ssh against a real local sshd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local_sshd(tmp_path_factory):
    """An OpenSSH server on 127.0.0.1:<random port> with a temp host key and authorized_keys."""
    sshd = shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if Path(p).exists()),
                                        None)
    if not sshd or not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        pytest.skip("OpenSSH server/client not installed (apt-get install openssh-server openssh-client; "
                    "scripts/ci_setup.sh does this in CI)")
    d = tmp_path_factory.mktemp("sshd")
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)], check=True)
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    os.chmod(d / "authorized_keys", stat.S_IRUSR | stat.S_IWUSR)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege-separation folder sshd requires
    port = _free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\nAuthorizedKeysFile {d / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nPidFile none\nSubsystem sftp internal-sftp\n"
        "LogLevel ERROR\n")
    proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    if proc.poll() is not None:
        pytest.skip(f"sshd did not start: {proc.stderr.read().strip()[:200]}")
    yield {"address": f"{getpass.getuser()}@127.0.0.1:{port}", "key": str(d / "client_key")}
    proc.terminate()
    proc.wait(timeout=10)


def test_ssh_device_against_local_sshd(local_sshd, tiny_onnx):
    options = DeviceOptions(ssh_key=local_sshd["key"], remote_python=sys.executable)
    doc = run_bench(_quick([tiny_onnx], device=f"ssh:{local_sshd['address']}"), options)
    row = doc["results"][0]
    assert doc["device"]["kind"] == "ssh" and row["n"] == 5 and row["median_ms"] > 0
    assert doc["parity"][tiny_onnx.name]["passed"]
    assert doc["memory"][tiny_onnx.name]["peak_rss_mb"] > 0
    assert doc["host"]["machine"]  # the host is described too when the device is remote

    with open_device(f"ssh:{local_sshd['address']}", options) as device:
        assert device.describe()["cores"] >= 1
        remote = device.remote_dir
        assert Path(remote).is_dir()  # the "board" is this machine: its temp folder is visible
    assert not Path(remote).exists(), "the remote temp folder is removed on close"


def test_ssh_unreachable_is_one_line(tiny_onnx, tmp_path, capsys):
    rc = main(["bench", str(tiny_onnx), "--device", f"ssh:nobody@127.0.0.1:{_free_port()}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and "cannot connect" in err[-1] and err[-1].startswith("error: ssh:nobody@127.0.0.1")


def test_ssh_missing_identity_file(tmp_path):
    with pytest.raises(EdgesalError, match="identity file not found"):
        open_device("ssh:me@host", DeviceOptions(ssh_key=str(tmp_path / "nope")))


# ---------------------------------------------------------------------------- adb with a fake adb + binary

FAKE_ADB = r'''#!{python}
"""Stand-in for adb: one device, 'shell' runs locally with /data/local/tmp mapped to $FAKE_ADB_ROOT."""
import os, shutil, subprocess, sys
root = os.environ["FAKE_ADB_ROOT"]
args = sys.argv[1:]
serial = args[1] if args[:1] == ["-s"] else None
args = args[2:] if serial else args
if serial != "FAKE123":
    sys.exit(print(f"error: device '{{serial}}' not found", file=sys.stderr) or 1)
m = lambda s: s.replace("/data/local/tmp", root)
if args[0] == "get-state":
    print("device")
elif args[0] == "push":
    os.makedirs(os.path.dirname(m(args[2])), exist_ok=True)
    shutil.copy(args[1], m(args[2]))
elif args[0] == "shell" and args[1].startswith("getprop"):
    print({{"ro.product.model": "Pixel Fake", "ro.product.manufacturer": "Google", "ro.build.version.release": "14",
           "ro.build.version.sdk": "34", "ro.product.cpu.abi": "arm64-v8a"}}.get(args[1].split()[1], ""))
elif args[0] == "shell":
    sys.exit(subprocess.run(m(args[1]), shell=True).returncode)
'''


@pytest.fixture
def fake_adb(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    adb = bindir / "adb"
    adb.write_text(FAKE_ADB.format(python=sys.executable))
    adb.chmod(0o755)
    binary = tmp_path / "benchmark_model"
    binary.write_text(f"#!/bin/sh\necho \"args: $*\" >&2\ncat {DATA / 'am62x_cpu.txt'}\n")
    binary.chmod(0o755)
    model = tmp_path / "tiny.tflite"
    model.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(64))  # a flatbuffer header is all the harness checks
    (tmp_path / "tiny.tflite.ref.npz").write_bytes(b"")  # references exist, but adb cannot check them
    (tmp_path / "phone").mkdir()
    monkeypatch.setenv("FAKE_ADB_ROOT", str(tmp_path / "phone"))
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return {"binary": str(binary), "model": model, "phone": tmp_path / "phone"}


def test_adb_device_runs_benchmark_model(fake_adb):
    doc = run_bench(_quick([fake_adb["model"]], device="adb:FAKE123", threads=[1, 4]),
                    DeviceOptions(benchmark_binary=fake_adb["binary"]))
    assert doc["device"]["board"] == "Google Pixel Fake" and doc["device"]["os"] == "Android 14 (SDK 34)"
    rows = doc["results"]
    assert [r["threads"] for r in rows] == [1, 4]
    assert rows[0]["median_ms"] == pytest.approx(1239.807) and rows[0]["meets_target"] is False
    assert doc["memory"]["tiny.tflite"]["model_peak_rss_mb"] == pytest.approx(109.832)
    assert doc["verdict"] == {"fps": "fail", "parity": "not available on adb devices"} and doc["parity"] == {}
    assert list(fake_adb["phone"].iterdir()) == [], "the phone's temp folder is removed"


def test_adb_errors(fake_adb, monkeypatch, tmp_path):
    opts = DeviceOptions(benchmark_binary=fake_adb["binary"])
    with pytest.raises(EdgesalError, match="adb:NOPE not reachable: error: device 'NOPE' not found"):
        open_device("adb:NOPE", opts)
    monkeypatch.delenv("EDGESAL_BENCHMARK_MODEL", raising=False)
    with pytest.raises(EdgesalError, match="--benchmark-binary"):
        open_device("adb:FAKE123")
    with pytest.raises(EdgesalError, match="benchmark_model binary not found"):
        open_device("adb:FAKE123", DeviceOptions(benchmark_binary=str(tmp_path / "missing")))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(EdgesalError, match="adb not found"):
        open_device("adb:FAKE123", opts)


# ---------------------------------------------------------------------------- the format table and the runtime layer


def test_format_table_drives_every_suffix_table():
    import edgesal.predictors  # noqa: F401 - registers the file loaders
    from edgesal.bench.artefact import AUTO_RUNTIME, RUNTIME_SUFFIXES
    from edgesal.export.formats import export_function
    from edgesal.models.factory import ARTEFACT_SUFFIXES
    from edgesal.predictors.registry import file_suffixes
    from edgesal.runtimes.files import SIGNATURES
    from edgesal.runtimes.formats import BY_SUFFIX, EXPORT_FORMATS

    for fmt in EXPORT_FORMATS.values():
        assert BY_SUFFIX[fmt.suffix] is fmt and fmt.suffix in SIGNATURES
        assert RUNTIME_SUFFIXES[fmt.runtime][0] == fmt.suffix and AUTO_RUNTIME[fmt.suffix] == fmt.runtime
        assert fmt.session_class().runtime_name == fmt.runtime
        assert callable(export_function(fmt.converter)) and callable(export_function(fmt.metadata_writer))
        assert fmt.suffix in file_suffixes()
    assert set(ARTEFACT_SUFFIXES) == set(BY_SUFFIX), "models.factory should derive its suffixes from the table"
    assert set(RUNTIME_SUFFIXES) == {f.runtime for f in EXPORT_FORMATS.values()} | {"torch"}


def test_runtime_layer_is_device_safe():
    """Python 3.8 syntax, and nothing from edgesal but the guarded error import."""
    import ast

    import edgesal.runtimes as layer

    for source in Path(layer.__file__).parent.glob("*.py"):
        tree = ast.parse(source.read_text(), feature_version=(3, 8))
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        edgesal_imports = [m for m in imported if m.split(".")[0] == "edgesal"]
        assert edgesal_imports == (["edgesal.errors"] if source.name == "errors.py" else []), source.name
        assert not [m for m in imported if m.split(".")[0] == "torch"], source.name


def test_runner_bundle_runs_without_torch_or_edgesal(tiny_onnx, tmp_path):
    """The shipped bundle on a 'device' where torch and edgesal cannot be imported."""
    import numpy as np

    from edgesal.bench.bundle import build_bundle
    from edgesal.runtimes.formats import BY_SUFFIX
    from edgesal.runtimes.runner import decode_maps, parse_result

    bundle = build_bundle(tmp_path)
    with np.load(f"{tiny_onnx}.ref.npz") as ref:
        np.save(tmp_path / "inputs.npy", ref["inputs"])
        expected = ref["outputs"][:, 0]
    job = {"mode": "outputs", "threads": [1], "inputs_npy": str(tmp_path / "inputs.npy"),
           "models": [{"label": "m", "path": str(tiny_onnx), "runtime": "onnxruntime",
                       "session": BY_SUFFIX[".onnx"].session}]}
    code = ("import runpy, sys; sys.modules['torch'] = None; sys.modules['edgesal'] = None; "
            f"sys.argv = [{str(bundle)!r}]; runpy.run_path({str(bundle)!r}, run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(job), capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    result = parse_result(proc.stdout)
    assert result is not None and "error" not in result, proc.stderr[-2000:]
    assert np.abs(decode_maps(result) - expected).max() < 1e-4


# ---------------------------------------------------------------------------- adb delegates and parity

_RECORD_ARGS = "#!/bin/sh\necho \"$*\" >> {log}\ncat {data}\n"  # benchmark_model stand-in that logs its flags


@pytest.mark.parametrize("delegate,flag", [("xnnpack", "--use_xnnpack=true"), ("gpu", "--use_gpu=true"),
                                           ("nnapi", "--use_nnapi=true")])
def test_adb_delegate_reaches_benchmark_model_and_report(fake_adb, tmp_path, monkeypatch, delegate, flag):
    from edgesal.bench.report import write_reports

    monkeypatch.setenv("EDGESAL_REMOTE_PYTHON", str(tmp_path / "no-python"))  # timings only
    log = tmp_path / "args.log"
    binary = Path(fake_adb["binary"])
    binary.write_text(_RECORD_ARGS.format(log=log, data=DATA / "am62x_cpu.txt"))
    doc = run_bench(_quick([fake_adb["model"]], device="adb:FAKE123", threads=[2], runs=7, warmup=3),
                    DeviceOptions(benchmark_binary=str(binary), delegate=delegate))
    [line] = log.read_text().splitlines()
    args = line.split()
    assert args[0].startswith("--graph=") and args[0].endswith("_tiny.tflite")
    assert {"--num_threads=2", "--num_runs=7", "--warmup_runs=3", flag} <= set(args)
    assert not {f for f in ("--use_xnnpack=true", "--use_gpu=true", "--use_nnapi=true") if f != flag} & set(args)
    row = doc["results"][0]
    assert row["runtime"] == f"litert ({delegate})"
    assert doc["device"]["delegate"] == delegate and "python" not in doc["device"]
    assert doc["verdict"]["parity"] == "not available on adb devices"
    md = write_reports(doc, tmp_path / "report")["markdown"].read_text()
    assert f"litert ({delegate})" in md


def test_adb_delegate_is_checked(fake_adb, tmp_path):
    with pytest.raises(EdgesalError, match="unknown delegate 'tpu'"):
        open_device("adb:FAKE123", DeviceOptions(benchmark_binary=fake_adb["binary"], delegate="tpu"))
    from edgesal.cli.main import main

    code = main(["bench", str(fake_adb["model"]), "--delegate", "gpu"])  # local device: XNNPACK only
    assert code == 2


FAKE_ADB_STDIN = FAKE_ADB.replace(
    "    sys.exit(subprocess.run(m(args[1]), shell=True).returncode)",
    "    data = m(sys.stdin.read()) if '.pyz' in args[1] else None  # the runner's job names phone paths\n"
    "    sys.exit(subprocess.run(m(args[1]), shell=True, input=data, text=True).returncode)")


def test_adb_parity_runs_the_runner_on_the_phone_python(fake_adb, tmp_path_factory, monkeypatch):
    """With a Python (numpy + LiteRT) on the phone, parity is checked there as on ssh boards."""
    from edgesal.bench.demo import pytest_demo_dir, tiny_artefacts

    [tflite] = tiny_artefacts(pytest_demo_dir(tmp_path_factory), targets=("tflite",))
    adb = Path(os.environ["PATH"].split(os.pathsep)[0]) / "adb"
    adb.write_text(FAKE_ADB_STDIN.format(python=sys.executable))
    monkeypatch.setenv("EDGESAL_REMOTE_PYTHON", sys.executable)
    doc = run_bench(_quick([tflite], device="adb:FAKE123", threads=[1], runs=2, warmup=0),
                    DeviceOptions(benchmark_binary=fake_adb["binary"], delegate="gpu"))
    assert doc["device"]["python"] == sys.executable
    parity = doc["parity"][tflite.name]
    assert parity["passed"] and parity["cc_mean"] > 0.999 and doc["verdict"]["parity"] == "pass"
    assert list(fake_adb["phone"].iterdir()) == [], "the phone's temp folder is removed"
