"""Training on a tiny synthetic generic dataset: loss falls, resume is exact, DDP runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from edgesal.losses import get_loss
from edgesal.models import build_model, get_spec, load_checkpoint
from edgesal.training.arrays import load_training_arrays
from edgesal.training.config import TrainConfig
from edgesal.training.pseudolabel import pseudolabel
from edgesal.training.trainer import train, validation_loss


def _cfg(data: Path, tmp: Path, **kw) -> TrainConfig:
    base = dict(model="uva_tiny_readout", train=[f"{data}:train"], val=[f"{data}:val"], epochs=8, batch=4,
                lr=3e-3, val_every=5, patience=100, pretrained_backbone=False, out=str(tmp / "run"),
                cache_dir=str(tmp / "cache"), threads=1)
    base.update(kw)
    return TrainConfig().updated(base)


def test_training_reduces_validation_loss(blob_dataset, tmp_path):
    cfg = _cfg(blob_dataset, tmp_path)
    spec = get_spec(cfg.model)
    val = load_training_arrays(cfg.val, spec.input_hw, cfg.cache_dir, progress=False)
    torch.manual_seed(0)
    untrained = validation_loss(build_model(spec), val, get_loss("theis"), spec)
    result = train(cfg, progress=False)
    assert result.best_path.exists()
    assert result.best_val < untrained - 0.05, (untrained, result.best_val)


def test_resume_matches_uninterrupted_run(blob_dataset, tmp_path):
    full = train(_cfg(blob_dataset, tmp_path / "a", max_steps=10, val_every=5), progress=False)
    interrupted = train(_cfg(blob_dataset, tmp_path / "b", max_steps=10, val_every=5), progress=False, stop_after=5)
    assert interrupted.steps == 5
    resumed = train(_cfg(blob_dataset, tmp_path / "b", max_steps=10, val_every=5), resume=True, progress=False)
    assert resumed.steps == full.steps == 10
    a, _, _ = load_checkpoint(tmp_path / "a" / "run" / "last.pt")
    b, _, _ = load_checkpoint(tmp_path / "b" / "run" / "last.pt")
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.allclose(pa.float(), pb.float(), atol=1e-5), name


def test_no_early_stop_before_early_stop_from(blob_dataset, tmp_path):
    """Patience 1 would stop at the first validation without improvement; with ``early_stop_from`` 0.5 the
    validation window that stops the run lies after step 10."""
    cfg = _cfg(blob_dataset, tmp_path, max_steps=20, val_every=2, patience=1, lr=0.05, early_stop_from=0.5)
    result = train(cfg, progress=False)
    vals = [h["val_loss"] for h in result.history]
    # fails (StopIteration or the step check) if patience 1 would not have fired before step 10
    first_miss = next(i for i in range(1, len(vals)) if vals[i] >= min(vals[:i]))
    assert result.history[first_miss]["step"] < 10 and result.steps >= 12  # its window: steps 10-12 or later
    assert result.planned_steps == 20
    assert result.stopped_early == (result.steps < 20)
    if result.stopped_early:
        assert result.steps - cfg.patience * cfg.val_every >= 10


def test_distillation_from_teacher_cache(blob_dataset, tmp_path):
    # a teacher: a briefly trained tiny model; its maps are cached once, then reused
    teacher_run = train(_cfg(blob_dataset, tmp_path / "t", max_steps=10), progress=False)
    cache = tmp_path / "teacher"
    counts = pseudolabel([f"{blob_dataset}:all"], str(teacher_run.best_path), cache, (64, 64), progress=False)
    assert counts.computed == 16 and not counts.skipped
    again = pseudolabel([f"{blob_dataset}:all"], str(teacher_run.best_path), cache, (64, 64), progress=False)
    assert again.counts() == {"images": 16, "computed": 0, "cached": 16}
    cfg = _cfg(blob_dataset, tmp_path / "s", max_steps=10, teacher_cache=str(cache), loss="theis")
    arrays = load_training_arrays(cfg.train, (64, 64), cfg.cache_dir, cfg.teacher_cache, progress=False)
    assert arrays.teacher is not None and arrays.teacher.shape == (len(arrays), 64, 64)
    assert arrays.teacher.min() >= 0.0 and arrays.teacher.max() <= 1.0
    assert train(cfg, progress=False).steps == 10

    # an ensemble of two caches: the min-max of the mean of the sum-normalised maps
    other = tmp_path / "teacher_center"
    pseudolabel([f"{blob_dataset}:all"], "center-bias", other, (64, 64), progress=False)
    both = load_training_arrays(cfg.train, (64, 64), cfg.cache_dir, f"{cache}+{other}", progress=False)
    centre = load_training_arrays(cfg.train, (64, 64), cfg.cache_dir, str(other), progress=False)
    for a, b, mixed in zip(arrays.teacher[:3], centre.teacher[:3], both.teacher[:3]):
        mean = a / a.sum() + b / b.sum()
        np.testing.assert_allclose(mixed, (mean - mean.min()) / (mean.max() - mean.min()), rtol=1e-4, atol=1e-5)
    assert not np.allclose(both.teacher, arrays.teacher, atol=1e-3)


def test_two_process_ddp(blob_dataset, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
           "-m", "edgesal.cli.main", "train", "--model", "uva_tiny_readout",
           "--data", f"{blob_dataset}:train", "--val", f"{blob_dataset}:val", "--max-steps", "6",
           "--batch", "2", "--val-every", "3", "--no-pretrained", "--threads", "1",
           "--out", str(tmp_path / "ddp"), "--cache-dir", str(tmp_path / "cache")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    _, _, meta = load_checkpoint(tmp_path / "ddp" / "last.pt")
    assert meta["world_size"] == 2 and meta["step"] == 6


def test_hint_pretraining_reduces_hint_loss(blob_dataset, tmp_path):
    from edgesal.training.hint import hint_pretrain

    teacher = train(_cfg(blob_dataset, tmp_path / "t", max_steps=5), progress=False)
    spec = get_spec("uva_tiny_readout")
    arrays = load_training_arrays([f"{blob_dataset}:train"], spec.input_hw, tmp_path / "c", progress=False)
    torch.manual_seed(1)
    losses = hint_pretrain(build_model(spec), spec, str(teacher.best_path), arrays, steps=30, batch=4,
                           lr=1e-2, progress=False)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


def test_teacher_ensemble_averages_members(blob_dataset, tmp_path):
    from edgesal.data import open_dataset
    from edgesal.training.pseudolabel import load_teacher

    a = train(_cfg(blob_dataset, tmp_path / "a", max_steps=3), progress=False).best_path
    b = train(_cfg(blob_dataset, tmp_path / "b", max_steps=6, seed=1), progress=False).best_path
    ensemble = load_teacher(f"{a}+{b}")
    image = open_dataset(str(blob_dataset), split="all").load("img00").image
    maps = [load_teacher(str(p)).predict(image) for p in (a, b)]
    expected = np.mean([m / m.sum() for m in maps], axis=0)
    assert np.allclose(ensemble.predict(image), expected, atol=1e-6)


def test_sharpness_calibration_maximises_validation_likelihood(blob_dataset, tmp_path):
    from edgesal.training.calibration import calibrate_sharpness, mean_log_likelihood, validation_log_densities

    run = train(_cfg(blob_dataset, tmp_path, max_steps=15), progress=False)
    model, spec, meta = load_checkpoint(run.best_path)
    assert "calibration" in meta  # the trainer calibrates log-density students at the end
    val = load_training_arrays([f"{blob_dataset}:val"], spec.input_hw, tmp_path / "c", progress=False)
    result = calibrate_sharpness(model, val, spec)
    logd = validation_log_densities(model, val, spec)
    fix = val.fixations[val.labelled]
    best = mean_log_likelihood(logd, fix, result["sharpness"])
    for other in (0.5 * result["sharpness"], 1.5 * result["sharpness"]):
        assert mean_log_likelihood(logd, fix, other) <= best + 1e-9
    assert abs(float(model.head.sharpness) - result["sharpness"]) < 1e-6


def test_default_loss_rule_is_shared():
    from edgesal.losses import default_loss
    from edgesal.pruning.steps import Objective

    assert default_loss("log_density") == "theis" and default_loss("logits") == "fastsal_bce"
    for name in ("uva_tiny_readout", "fastsal_c_mnv2"):
        spec = get_spec(name)
        assert Objective(spec, None, None, False).train_name == default_loss(spec.output_kind)


def test_train_steps_is_one_sgd_loop():
    from edgesal.training.trainer import train_steps

    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 1, 1)
    batches = {s: {"image": torch.randn(2, 3, 4, 4), "target": torch.randn(2, 1, 4, 4)} for s in range(5)}

    def loss_fn(out, batch):
        return ((out - batch["target"]) ** 2).mean()

    manual = torch.nn.Conv2d(3, 1, 1)
    manual.load_state_dict(model.state_dict())
    opt = torch.optim.SGD(manual.parameters(), lr=0.1)
    for s in range(1, 4):
        opt.zero_grad()
        loss_fn(manual(batches[s]["image"]), batches[s]).backward()
        opt.step()
    seen = []
    losses = train_steps(model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), batches.__getitem__, 1, 5,
                         on_step=lambda step, loss: seen.append(step) or step >= 4)
    assert seen == [2, 3, 4] and len(losses) == 3  # stopped by on_step after step 4 (global steps 1..3)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), manual.state_dict().values()))
