"""Export UX: one progress line per stage with its time, third-party noise hidden unless ``--verbose``."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import warnings

import pytest

from edgesal.errors import EdgesalError
from edgesal.export.progress import Progress, counted, reporting, stage
from edgesal.quiet import hushed, output_hidden

#: lines the converter stacks print by themselves (C++ absl/oneDNN/XNNPACK, torchao, torch, NNCF bars)
NOISE = re.compile(r"absl::InitializeLog|oneDNN|XNNPACK|Failed to load|_pytree|Estimated count of arithmetic ops|"
                   r"Statistics collection|^[IWE]\d{4} ", re.M)
STAGE_LINE = re.compile(r"^\[(?P<label>[^\]]+)\] (?P<stage>.+?) … (?P<seconds>\d+\.\d) s$")


def test_progress_lines_time_each_stage_and_count_images():
    out = io.StringIO()
    progress = Progress("tflite int8", stream=out)
    with reporting(progress):
        with stage("convert"):
            pass
        with stage("calibrate", 3):
            assert list(counted(["a", "b", "c"])) == ["a", "b", "c"]
        with pytest.raises(ValueError), stage("quantise"):
            raise ValueError("boom")
        with pytest.raises(EdgesalError), stage("save"):  # a user error: its own error line says it
            raise EdgesalError("no space left")
    lines = out.getvalue().splitlines()
    assert [STAGE_LINE.match(line)["stage"] for line in lines[:2]] == ["convert", "calibrate 3 images"]
    assert re.fullmatch(r"\[tflite int8\] quantise … failed after \d+\.\d s", lines[2])
    assert set(progress.times) == {"convert", "calibrate"} and len(lines) == 3
    with stage("outside any report"):  # converters called on their own stay silent
        pass
    assert len(out.getvalue().splitlines()) == 3


def test_hushed_hides_third_party_logs_and_warnings_but_not_edgesal_warnings(capfd):
    torchao = logging.getLogger("torchao")
    before = torchao.level
    with hushed(), warnings.catch_warnings(record=True) as seen:
        torchao.warning("Failed to load _C_mxfp8.so")
        warnings.warn_explicit("third-party deprecation", FutureWarning, "x.py", 1, module="torch.utils")
        warnings.warn_explicit("only 16 calibration images", UserWarning, "c.py", 1, module="edgesal.export.pipeline")
    assert torchao.level == before  # restored
    assert [str(w.message) for w in seen] == ["only 16 calibration images"]
    assert "Failed to load" not in capfd.readouterr().err


def test_output_hidden_hides_native_output_only_when_hushed(capfd):
    with hushed(), output_hidden():
        os.write(2, b"I0000 port.cc] oneDNN custom operations are on\n")
        os.write(1, b"Statistics collection 100%\n")
    with output_hidden():  # not hushed (--verbose): everything shows
        os.write(2, b"verbose native line\n")
    os.write(2, b"after\n")
    captured = capfd.readouterr()
    assert "oneDNN" not in captured.err and "Statistics" not in captured.out
    assert "verbose native line" in captured.err and "after" in captured.err


def _export_cli(args: list[str], tmp_path, ckpt, blob_dataset) -> subprocess.CompletedProcess:
    """``edgesal export`` of the tiny checkpoint in a fresh interpreter (real stderr, fd 2 included)."""
    lenient = ["--min-cc", "0", "--max-kl", "100", "--max-dauc", "1", "--max-dnss", "100"]  # mechanics only
    cmd = [sys.executable, "-m", "edgesal.cli.main", "export", "--model", str(ckpt), "--calib",
           str(blob_dataset / "stimuli"), "--parity-data", str(blob_dataset), "--parity-images", "4", *lenient, *args]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_cli_export_prints_stages_and_no_third_party_noise(tmp_path, tiny_ckpt, blob_dataset):
    done = _export_cli(["--target", "tflite", "--int8", "--out", str(tmp_path / "q")], tmp_path, tiny_ckpt,
                       blob_dataset)
    assert done.returncode == 0, done.stderr
    stages = [(m["label"], m["stage"]) for m in map(STAGE_LINE.match, done.stderr.splitlines()) if m]
    assert stages == [("tiny.pt", "load model"), ("tiny.pt", "read calibration 16 images"),
                      ("tiny.pt", "parity reference (torch)"), ("tflite int8", "load converter"),
                      ("tflite int8", "convert"), ("tflite int8", "calibrate 16 images"), ("tflite int8", "quantise"),
                      ("tflite int8", "save"), ("tflite int8", "parity 4 images"), ("tflite int8", "latency 20 runs"),
                      ("tflite int8", "publish")]
    noise = [line for line in done.stderr.splitlines() if not STAGE_LINE.match(line)]
    assert noise == ["warning: only 16 calibration images in " + str(blob_dataset / "stimuli")
                     + "; 100+ give more stable int8 ranges"], noise  # edgesal's own warning stays
    assert "tiny_int8.tflite" in done.stdout and not NOISE.search(done.stdout)


@pytest.mark.slow
def test_cli_export_verbose_shows_the_converters_output(tmp_path, tiny_ckpt, blob_dataset):
    done = _export_cli(["--target", "tflite", "--out", str(tmp_path / "v"), "--verbose"], tmp_path, tiny_ckpt,
                       blob_dataset)
    assert done.returncode == 0, done.stderr
    assert NOISE.search(done.stderr + done.stdout), done.stderr  # e.g. the XNNPACK / absl lines
    assert any(STAGE_LINE.match(line) for line in done.stderr.splitlines())  # progress stays on


def test_progress_goes_to_a_captured_stderr_and_leaves_it_open(capsys):
    progress = Progress("onnx fp32")  # default stream: sys.stderr (here pytest's capture)
    with reporting(progress), stage("convert"):
        pass
    progress.close()
    print("still open", file=sys.stderr)
    err = capsys.readouterr().err
    assert STAGE_LINE.match(err.splitlines()[0])["stage"] == "convert" and "still open" in err
