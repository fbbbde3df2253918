"""Bad-input suite: every command × bad or hostile input → one-line error, exit 2, no data loss.

Each row is a :class:`~bad_input.Case` run in a fresh world folder (see ``tests/bad_input.py``
for the contract checked). Rows are grouped per command.
"""

from __future__ import annotations

import json

import pytest
import torch
from bad_input import Case, World, make_image, run_case
from bad_input import write_file as _write


def _ckpt_payload(rel: str, payload, keep_spec: bool = False):
    """A checkpoint file holding ``payload`` (with the tiny model's valid spec if ``keep_spec``)."""
    def setup(world: World) -> None:
        data = payload
        if keep_spec:
            data = {**payload, "spec": torch.load(world.ckpt, weights_only=True)["spec"]}
        torch.save(data, world.root / rel)
    return setup


PREDICT = "predict"
CASES: list[Case] = [
    # --- global / parsing
    Case("no-command-option", ["predict", "{w}/imgs", "--out", "{w}/o", "--nope"], r"no such option"),
    Case("unknown-command", ["predcit"], r"no such command"),
    # --- predict: data loss
    Case("predict-out-is-input-folder", [PREDICT, "{w}/imgs", "--out", "{w}/imgs", "--model", "{ckpt}"],
         r"output folder .* input"),
    Case("predict-out-is-input-file-folder", [PREDICT, "{w}/imgs/im0.png", "--out", "{w}/imgs", "--model", "{ckpt}"],
         r"output folder .* input"),
    Case("predict-out-is-a-file", [PREDICT, "{w}/imgs", "--out", "{w}/notes.txt", "--model", "{ckpt}"],
         r"notes\.txt is a file"),
    Case("predict-out-under-a-file", [PREDICT, "{w}/imgs", "--out", "{w}/notes.txt/maps", "--model", "{ckpt}"],
         r"notes\.txt is a file"),
    Case("predict-stem-clash", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--model", "{ckpt}"],
         r"im0\.(jpg|png).*im0\.(jpg|png)", setup=lambda w: make_image(w.root / "imgs" / "im0.jpg")),
    # --- predict: ranges and inputs
    Case("predict-threads-0", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--threads", "0"], r"--threads"),
    Case("predict-threads-neg", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--threads", "-2"], r"--threads"),
    Case("predict-missing-source", [PREDICT, "{w}/nope", "--out", "{w}/o"], r"not found.*nope"),
    Case("predict-empty-folder", [PREDICT, "{w}/empty", "--out", "{w}/o"], r"no images",
         setup=lambda w: (w.root / "empty").mkdir()),
    Case("predict-not-an-image", [PREDICT, "{w}/notes.txt", "--out", "{w}/o"], r"notes\.txt"),
    Case("predict-unknown-model", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--model", "defualt"],
         r"unknown model 'defualt'.*did you mean 'default'"),
    Case("predict-truncated-tflite", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--model", "{w}/m.tflite"],
         r"m\.tflite", setup=_write("m.tflite", b"\x1c\x00\x00\x00TFL3\x00\x00")),
    Case("predict-text-as-onnx", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--model", "{w}/notes.onnx"],
         r"notes\.onnx.*not .*onnx", setup=_write("notes.onnx", "hello")),
    Case("predict-ckpt-missing-spec-keys", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--model", "{w}/bad.pt"],
         r"bad\.pt", setup=_ckpt_payload("bad.pt", {"format": "edgesal-checkpoint/1", "spec": {"name": "x"},
                                                    "state_dict": {}})),
    Case("predict-ckpt-state-not-dict", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--model", "{w}/bad.pt"],
         r"bad\.pt", setup=_ckpt_payload("bad.pt", {"format": "edgesal-checkpoint/1", "state_dict": [1, 2]},
                                          keep_spec=True)),
    Case("predict-ckpt-not-a-dict", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--model", "{w}/bad.pt"],
         r"not an edgesal checkpoint", setup=_ckpt_payload("bad.pt", [1, 2, 3])),
    # --- predict: folder runs skip unreadable images, report them and exit 3
    Case("predict-folder-with-bad-image", [PREDICT, "{w}/imgs", "--out", "{w}/o", "--model", "{ckpt}"],
         r"skipped 1 of 4 image.*broken\.jpg", code=3, may_write=("o/im*.png",),
         setup=_write("imgs/broken.jpg", b"\xff\xd8\xff garbage")),
    Case("predict-folder-all-bad", [PREDICT, "{w}/bad", "--out", "{w}/o", "--model", "{ckpt}"],
         r"none of the 2 image", setup=lambda w: (_write("bad/a.png", b"x")(w), _write("bad/b.jpg", b"y")(w))),
    # --- pseudolabel: validate everything before writing anything
    Case("pseudolabel-size-0", ["pseudolabel", "images:{w}/imgs", "--teacher", "{ckpt}", "--out", "{w}/cache",
                                "--size", "0", "0"], r"--size"),
    Case("pseudolabel-threads-0", ["pseudolabel", "images:{w}/imgs", "--teacher", "{ckpt}", "--out", "{w}/cache",
                                   "--threads", "0"], r"--threads"),
    Case("pseudolabel-out-is-file", ["pseudolabel", "images:{w}/imgs", "--teacher", "{ckpt}", "--out",
                                     "{w}/notes.txt"], r"notes\.txt is a file"),
    Case("pseudolabel-missing-folder", ["pseudolabel", "images:{w}/nope", "--teacher", "{ckpt}", "--out",
                                        "{w}/cache"], r"image folder not found.*nope"),
    Case("pseudolabel-unknown-teacher", ["pseudolabel", "images:{w}/imgs", "--teacher", "atention-center",
                                         "--out", "{w}/cache"], r"unknown model 'atention-center'.*attention-center"),
    Case("pseudolabel-empty-teacher", ["pseudolabel", "images:{w}/imgs", "--teacher", " + ", "--out", "{w}/cache"],
         r"--teacher ' \+ ' names no model"),
    Case("pseudolabel-corrupt-manifest", ["pseudolabel", "images:{w}/imgs", "--teacher", "{ckpt}", "--out",
                                          "{w}/cache"], r"corrupt teacher cache manifest",
         setup=_write("cache/manifest.json", "{\"teacher\": ")),
    Case("pseudolabel-other-teacher", ["pseudolabel", "images:{w}/imgs", "--teacher", "{ckpt}", "--out",
                                       "{w}/cache"], r"holds maps of teacher 'glimpse'",
         setup=_write("cache/manifest.json", json.dumps({"teacher": "glimpse", "size_hw": [192, 256]}))),
    Case("pseudolabel-bad-image", ["pseudolabel", "images:{w}/imgs", "--teacher", "{ckpt}", "--out", "{w}/cache",
                                   "--size", "48", "64"], r"skipped 1 of 4 image.*broken", code=3,
         may_write=("cache/*",), setup=_write("imgs/broken.png", b"\x89PNG\r\n broken")),
    # --- train
    Case("train-config-list", ["train", "--config", "{w}/cfg.json"], r"cfg\.json must be a table",
         setup=_write("cfg.json", "[1, 2]")),
    Case("train-config-epochs-string", ["train", "--config", "{w}/cfg.toml"], r"epochs.*integer.*'3'",
         setup=_write("cfg.toml", 'epochs = "3"\n')),
    Case("train-config-bad-toml", ["train", "--config", "{w}/cfg.toml"], r"cannot parse config",
         setup=_write("cfg.toml", "epochs = = 3\n")),
    Case("train-config-unknown-key", ["train", "--config", "{w}/cfg.toml"], r"unknown training option.*epoch",
         setup=_write("cfg.toml", "epoch = 3\n")),
    Case("train-config-missing", ["train", "--config", "{w}/nope.toml"], r"--config.*nope\.toml.*does not exist"),
    Case("train-config-early-stop-from-1", ["train", "--config", "{w}/cfg.toml"], r"early_stop_from.*\[0, 1\).*1\.0",
         setup=_write("cfg.toml", "early_stop_from = 1.0\n")),
    Case("train-early-stop-from-negative", ["train", "--early-stop-from", "-0.5", "--out", "{w}/run"],
         r"--early-stop-from"),
    Case("train-batch-0", ["train", "--batch", "0", "--out", "{w}/run"], r"--batch"),
    Case("train-epochs-text", ["train", "--epochs", "ten", "--out", "{w}/run"], r"--epochs.*'ten'"),
    Case("train-lr-negative", ["train", "--lr", "-0.1", "--out", "{w}/run"], r"--lr"),
    Case("train-imgsz-zero", ["train", "--imgsz", "0", "64", "--out", "{w}/run"], r"--imgsz"),
    Case("train-unknown-arch", ["train", "--model", "fastsal_z", "--data", "{w}/data:train", "--val",
                                "{w}/data:val", "--out", "{w}/run"], r"unknown architecture 'fastsal_z'"),
    Case("train-unknown-data", ["train", "--model", "uva_tiny_readout", "--data", "osei:train", "--out", "{w}/run"],
         r"unknown dataset 'osei'.*osie"),
    Case("train-out-is-file", ["train", "--out", "{w}/notes.txt"], r"notes\.txt is a file"),
    Case("train-init-not-ckpt", ["train", "--init", "{w}/notes.txt", "--model", "uva_tiny_readout", "--data",
                                 "{w}/data:train", "--val", "{w}/data:val", "--out", "{w}/run"],
         r"notes\.txt"),
    Case("train-resume-nothing", ["train", "--model", "uva_tiny_readout", "--data", "{w}/data:train", "--val",
                                  "{w}/data:val", "--out", "{w}/run", "--resume", "--cache-dir", "{w}/cache"],
         r"nothing to resume.*last\.pt", may_write=("cache/*",)),
    Case("train-teacher-cache-missing", ["train", "--model", "uva_tiny_readout", "--data", "{w}/data:train",
                                         "--val", "{w}/data:val", "--out", "{w}/run", "--teacher-cache",
                                         "{w}/nocache", "--cache-dir", "{w}/cache"],
         r"nocache", may_write=("cache/*",)),
    Case("train-hint-teacher-text", ["train", "--model", "uva_tiny_readout", "--data", "{w}/data:train",
                                     "--val", "{w}/data:val", "--out", "{w}/run", "--hint-teacher",
                                     "{w}/notes.txt", "--hint-steps", "2", "--cache-dir", "{w}/cache"],
         r"notes\.txt", may_write=("cache/*",)),
    # --- calibrate-density rewrites a checkpoint: a failure leaves it as it was
    Case("calibrate-not-a-checkpoint", ["calibrate-density", "--model", "{w}/notes.txt", "--val", "{w}/data:val"],
         r"not a loadable edgesal checkpoint.*notes\.txt"),
    Case("calibrate-missing", ["calibrate-density", "--model", "{w}/nope.pt"], r"nope\.pt.*does not exist"),
    # --- prune / prune-sweep
    Case("prune-no-stop-rule", ["prune", "--model", "{ckpt}", "--data", "{w}/data:train", "--out", "{w}/p"],
         r"stop rule"),
    Case("prune-min-keep-1.5", ["prune", "--model", "{ckpt}", "--data", "{w}/data:train", "--prune", "2",
                                "--min-keep", "1.5"], r"--min-keep"),
    Case("prune-batch-0", ["prune", "--model", "{ckpt}", "--data", "{w}/data:train", "--prune", "2",
                           "--batch", "0"], r"--batch"),
    Case("prune-prune-0", ["prune", "--model", "{ckpt}", "--data", "{w}/data:train", "--prune", "0"], r"--prune"),
    Case("prune-negative-flops", ["prune", "--model", "{ckpt}", "--data", "{w}/data:train", "--flops", "-1G",
                                  "--out", "{w}/p", "--cache-dir", "{w}/cache"],
         r"FLOP target '-1G'", may_write=("cache/*",)),
    Case("prune-beta-and-star", ["prune", "--model", "{ckpt}", "--data", "{w}/data:train", "--prune", "2",
                                 "--beta", "0.1", "--beta-star"], r"--beta or --beta-star"),
    Case("prune-model-text", ["prune", "--model", "{w}/notes.txt", "--data", "{w}/data:train", "--prune", "2",
                              "--out", "{w}/p"], r"notes\.txt"),
    Case("prune-out-is-file", ["prune", "--model", "{ckpt}", "--data", "{w}/data:train", "--prune", "2",
                               "--out", "{w}/notes.txt"], r"notes\.txt is a file"),
    Case("prune-sweep-bad-method", ["prune-sweep", "--model", "{ckpt}", "--data", "{w}/data:train", "--prune",
                                    "2", "--methods", "fisher,l2"], r"unknown method.*l2"),
    Case("prune-sweep-bad-beta", ["prune-sweep", "--model", "{ckpt}", "--data", "{w}/data:train", "--prune",
                                  "2", "--betas", "fisher:x"], r"--betas 'fisher:x'"),
    Case("prune-sweep-limit-0", ["prune-sweep", "--model", "{ckpt}", "--data", "{w}/data:train", "--prune",
                                 "2", "--limit", "0"], r"--limit"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, world, capsys):
    run_case(case, world, capsys)
