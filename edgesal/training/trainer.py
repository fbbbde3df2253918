"""The training loop: validation every N steps, early stopping, best/last checkpoints, resume,
deterministic seed, and DistributedDataParallel (gloo) when started with ``torchrun``."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from edgesal.errors import EdgesalError
from edgesal.losses import get_loss
from edgesal.models import build_model, get_spec, save_checkpoint
from edgesal.models.checkpoint import read_checkpoint
from edgesal.predictors.center_bias import fit_center_prior
from edgesal.training.arrays import TrainingArrays, load_training_arrays
from edgesal.training.batches import epoch_order, make_batch
from edgesal.training.config import TrainConfig


@dataclass
class TrainResult:
    best_val: float
    steps: int
    stopped_early: bool
    best_path: Path
    history: list[dict]


def _dist_info() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world


def _lr_lambda(schedule: str, total: int):
    if schedule == "cosine":
        return lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / max(total, 1)))
    if schedule == "step":
        return lambda s: 0.1 ** (s // max(total // 3, 1))
    if schedule == "constant":
        return lambda s: 1.0
    raise EdgesalError(f"unknown lr schedule {schedule!r} (cosine, step, constant)")


def _optimizer(cfg: TrainConfig, params) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    raise EdgesalError(f"unknown optimizer {cfg.optimizer!r} (adam, sgd)")


@torch.no_grad()
def validation_loss(model: torch.nn.Module, arrays: TrainingArrays, loss_fn, spec, batch: int = 16) -> float:
    """Mean loss over the validation arrays (no augmentation); the train/eval mode is restored."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(arrays), batch):
        idx = np.arange(start, min(start + batch, len(arrays)))
        b = make_batch(arrays, idx, spec.mean, spec.std)
        total += float(loss_fn(model(b["image"]), b)) * len(idx)
        count += len(idx)
    model.train(was_training)
    return total / max(count, 1)


def calibrate_checkpoint(path: Path, val_arrays: TrainingArrays) -> dict:
    """Fit the readout's sharpness on validation fixations and rewrite the checkpoint."""
    from edgesal.models import load_checkpoint
    from edgesal.training.calibration import calibrate_sharpness

    model, spec, meta = load_checkpoint(path)
    result = calibrate_sharpness(model, val_arrays, spec)
    meta = {k: v for k, v in meta.items() if k not in ("sha256", "path")}
    save_checkpoint(path, model, spec, {**meta, "calibration": result})
    return result


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True,
          stop_after: int | None = None) -> TrainResult:
    """Train ``cfg.model`` on ``cfg.train``; returns the best validation loss and paths.

    ``stop_after`` interrupts the run after that many steps (as a crash or a time box would);
    ``resume=True`` later continues it exactly from ``last.pt``.
    """
    rank, world = _dist_info()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    init_model, init_meta = None, {}
    if cfg.init:  # fine-tune an existing (e.g. pruned) checkpoint: its architecture wins
        from edgesal.models import load_checkpoint

        init_model, spec, init_meta = load_checkpoint(cfg.init)
    else:
        spec = get_spec(cfg.model)
    if cfg.input_hw:
        spec = spec.with_input_hw(cfg.input_hw)
    out = Path(cfg.out)
    last_path, best_path = out / "last.pt", out / "best.pt"
    teacher = cfg.teacher_cache
    train_arrays = load_training_arrays(cfg.train, spec.input_hw, cfg.cache_dir, teacher, progress and rank == 0)
    val_arrays = load_training_arrays(cfg.val, spec.input_hw, cfg.cache_dir, teacher, progress and rank == 0)
    loss_name = cfg.loss or ("theis" if spec.output_kind == "log_density" else "fastsal_bce")
    loss_fn = get_loss(loss_name)

    if init_model is not None:
        model = init_model.train()
    else:
        model = build_model(spec, pretrained_backbone=cfg.pretrained_backbone and not resume)
    if spec.output_kind == "log_density" and init_model is None:
        labelled = train_arrays.fixations[train_arrays.labelled]
        ys, xs = np.nonzero(labelled.sum(axis=0))
        weights = labelled.sum(axis=0)[ys, xs]
        h, w = spec.input_hw
        points = np.repeat(np.stack([(xs + 0.5) / w, (ys + 0.5) / h], 1), weights.astype(int), axis=0)
        model.head.set_center_bias(torch.from_numpy(fit_center_prior(points)))
    steps_per_epoch = max(len(epoch_order(len(train_arrays), cfg.seed, 0, rank, world)) // cfg.batch, 1)
    total_steps = cfg.max_steps or cfg.epochs * steps_per_epoch
    optimizer = _optimizer(cfg, model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg.schedule, total_steps))
    step, best_val, bad_rounds, history = 0, float("inf"), 0, []
    if resume:
        if not last_path.exists():
            raise EdgesalError(f"nothing to resume: {last_path} does not exist")
        state = read_checkpoint(last_path)
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, best_val, bad_rounds = state["step"], state["best_val"], state["bad_rounds"]
        history = state.get("meta", {}).get("history", [])
    if cfg.hint_teacher and cfg.hint_steps and not resume:
        from edgesal.training.hint import hint_pretrain

        meta_hint = hint_pretrain(model, spec, cfg.hint_teacher, train_arrays, cfg.hint_steps, seed=cfg.seed,
                                  progress=progress and rank == 0)
    else:
        meta_hint = []
    ddp_model = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    meta = {"config": cfg.to_dict(), "loss": loss_name, "train_images": len(train_arrays),
            "teacher_cache": teacher, "world_size": world, "hint_losses": meta_hint[:1] + meta_hint[-1:]}
    if cfg.init:
        meta["init"] = {"path": cfg.init, "sha256": init_meta.get("sha256")}
        for key in ("pruned_channels", "pruning"):
            if key in init_meta:
                meta[key] = init_meta[key]
    model.train()
    bar = tqdm(total=total_steps, initial=step, desc=f"train {spec.name}", unit="step",
               disable=not progress or rank != 0)
    stopped_early = False
    while step < total_steps and not stopped_early:
        epoch, within = divmod(step, steps_per_epoch)
        order = epoch_order(len(train_arrays), cfg.seed, epoch, rank, world)
        for b in range(within, steps_per_epoch):
            idx = order[b * cfg.batch:(b + 1) * cfg.batch]
            flip_rng = np.random.default_rng([cfg.seed, step, rank])  # per step: resume-exact
            flip = flip_rng.random(len(idx)) < 0.5 if cfg.hflip else None
            batch = make_batch(train_arrays, idx, spec.mean, spec.std, flip)
            loss = loss_fn(ddp_model(batch["image"]), batch)
            if not torch.isfinite(loss):
                raise EdgesalError(f"training diverged at step {step} (loss {float(loss)}); lower --lr")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", best=f"{best_val:.4f}")
            if step % cfg.val_every == 0 or step == total_steps:
                val = validation_loss(model, val_arrays, loss_fn, spec)
                history.append({"step": step, "train_loss": loss.item(), "val_loss": val})
                improved = val < best_val
                best_val, bad_rounds = (val, 0) if improved else (best_val, bad_rounds + 1)
                if rank == 0:
                    meta_now = {**meta, "history": history, "best_val_loss": best_val, "step": step}
                    if improved:
                        save_checkpoint(best_path, model, spec, meta_now)
                    save_checkpoint(last_path, model, spec, meta_now, extra={
                        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                        "step": step, "best_val": best_val, "bad_rounds": bad_rounds})
                if bad_rounds >= cfg.patience:
                    stopped_early = True
            if step >= total_steps or stopped_early or (stop_after is not None and step >= stop_after):
                break
        if stop_after is not None and step >= stop_after:
            break
    bar.close()
    interrupted = stop_after is not None and step >= stop_after and step < total_steps and not stopped_early
    if rank == 0 and spec.output_kind == "log_density" and best_path.exists() and not interrupted:
        calibrate_checkpoint(best_path, val_arrays)
    if world > 1:
        dist.barrier()
    return TrainResult(best_val, step, stopped_early, best_path, history)
