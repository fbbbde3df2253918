"""The training loop: validation every N steps, early stopping, best/last checkpoints, resume,
deterministic seed, and DistributedDataParallel (gloo) when started with ``torchrun``.

:func:`train_steps` is the one SGD loop of edgesal: ``edgesal train`` runs it with
validation and checkpoints, pruning runs it to fine-tune (``edgesal prune``,
``prune-sweep``); :func:`check_finite` and :func:`gradient_step` are its parts, also used by
the pruning signal step and hint pretraining.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from edgesal.errors import EdgesalError
from edgesal.losses import LossFn, default_loss, get_loss
from edgesal.models import build_model, get_spec, save_checkpoint
from edgesal.models.checkpoint import read_checkpoint
from edgesal.models.registry import ModelSpec
from edgesal.predictors.center_bias import fit_center_prior
from edgesal.training.arrays import TrainingArrays
from edgesal.training.config import TrainConfig
from edgesal.training.data import array_batches, load_training_data


@dataclass
class TrainResult:
    best_val: float
    steps: int
    stopped_early: bool
    best_path: Path
    history: list[dict]
    planned_steps: int  # the schedule's length (``steps`` is shorter after an early stop or an interruption)


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
def batches_loss(model: torch.nn.Module, batches: Iterable[dict], loss_fn) -> float:
    """Mean loss over ``batches`` (weighted by batch size); the train/eval mode is restored."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for b in batches:
        n = len(b["image"])
        total += float(loss_fn(model(b["image"]), b)) * n
        count += n
    model.train(was_training)
    return total / max(count, 1)


def validation_loss(model: torch.nn.Module, arrays: TrainingArrays, loss_fn, spec, batch: int = 16) -> float:
    """Mean loss over the validation arrays (no augmentation); the train/eval mode is restored."""
    return batches_loss(model, array_batches(arrays, spec, batch), loss_fn)


def calibrate_checkpoint(path: Path, val_arrays: TrainingArrays) -> dict:
    """Fit the readout's sharpness on validation fixations and rewrite the checkpoint."""
    from edgesal.models import load_checkpoint
    from edgesal.training.calibration import calibrate_sharpness

    model, spec, meta = load_checkpoint(path)
    result = calibrate_sharpness(model, val_arrays, spec)
    meta = {k: v for k, v in meta.items() if k not in ("sha256", "path")}
    save_checkpoint(path, model, spec, {**meta, "calibration": result})
    return result


def seed_everything(seed: int, threads: int | None = None) -> None:
    """Torch CPU threads (if given) and the torch and numpy global seeds."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    np.random.seed(seed)


def check_finite(loss: torch.Tensor, what: str) -> None:
    """EdgesalError "<what> (loss …); lower --lr" unless ``loss`` is finite."""
    if not torch.isfinite(loss):
        raise EdgesalError(f"{what} (loss {float(loss)}); lower --lr")


def gradient_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """Zero the gradients, back-propagate ``loss``, update."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def train_steps(model: torch.nn.Module, loss_fn: LossFn, optimizer: torch.optim.Optimizer,
                batches: Callable[[int], dict], start: int, stop: int, *,
                scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                on_step: Callable[[int, float], bool] | None = None, bar: tqdm | None = None,
                what: str = "training") -> list[float]:
    """SGD steps ``start … stop-1`` on ``batches(step)``; returns the training losses.

    ``on_step(steps_done, loss)`` runs after every step (validation, checkpoints) and may
    return True to stop early.
    """
    losses = []
    for step in range(start, stop):
        batch = batches(step)
        loss = loss_fn(model(batch["image"]), batch)
        check_finite(loss, f"{what} diverged at step {step}")
        gradient_step(optimizer, loss)
        if scheduler is not None:
            scheduler.step()
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if on_step is not None and on_step(step + 1, losses[-1]):
            break
    return losses


class _Validation:
    """Validation every ``val_every`` steps, best/last checkpoints, early stopping, resume."""

    def __init__(self, cfg: TrainConfig, model: torch.nn.Module, spec: ModelSpec,
                 val_batches: Callable[[], Iterable[dict]], loss_fn: LossFn, optimizer: torch.optim.Optimizer,
                 scheduler, rank: int, total_steps: int):
        self.cfg, self.model, self.spec, self.val_batches, self.loss_fn = cfg, model, spec, val_batches, loss_fn
        self.optimizer, self.scheduler, self.rank, self.total_steps = optimizer, scheduler, rank, total_steps
        out = Path(cfg.out)
        self.last_path, self.best_path = out / "last.pt", out / "best.pt"
        self.best_val, self.bad_rounds, self.history, self.stopped_early = float("inf"), 0, [], False
        self.meta: dict = {}
        self.stop_after: int | None = None
        self.bar: tqdm | None = None
        self.aux: torch.nn.Module | None = None  # trained next to the model (distillation adapters), saved in last.pt

    def restore(self) -> int:
        """Continue ``last.pt``: weights, optimizer, scheduler, counters; returns the step."""
        if not self.last_path.exists():
            raise EdgesalError(f"nothing to resume: {self.last_path} does not exist")
        state = read_checkpoint(self.last_path)
        self.model.load_state_dict(state["state_dict"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.aux is not None and "aux" in state:
            self.aux.load_state_dict(state["aux"])
        self.best_val, self.bad_rounds = state["best_val"], state["bad_rounds"]
        self.history = state.get("meta", {}).get("history", [])
        return state["step"]

    def after_step(self, step: int, loss: float) -> bool:
        """Validate when due; True to stop (early stopping or ``stop_after``)."""
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", best=f"{self.best_val:.4f}")
        if step % self.cfg.val_every == 0 or step == self.total_steps:
            self._validate(step, loss)
        return self.stopped_early or (self.stop_after is not None and step >= self.stop_after)

    def _validate(self, step: int, loss: float) -> None:
        val = batches_loss(self.model, self.val_batches(), self.loss_fn)
        self.history.append({"step": step, "train_loss": loss, "val_loss": val})
        improved = val < self.best_val
        self.best_val, self.bad_rounds = (val, 0) if improved else (self.best_val, self.bad_rounds + 1)
        if self.rank == 0:
            meta_now = {**self.meta, "history": self.history, "best_val_loss": self.best_val, "step": step}
            if improved:
                save_checkpoint(self.best_path, self.model, self.spec, meta_now)
            save_checkpoint(self.last_path, self.model, self.spec, meta_now, extra={
                "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "step": step, "best_val": self.best_val, "bad_rounds": self.bad_rounds,
                **({"aux": self.aux.state_dict()} if self.aux is not None else {})})
        window_start = step - self.cfg.patience * self.cfg.val_every  # the validations that did not improve
        if self.bad_rounds >= self.cfg.patience and window_start >= self.cfg.early_stop_from * self.total_steps:
            self.stopped_early = True


def training_spec(cfg: TrainConfig, spec: ModelSpec) -> ModelSpec:
    """``spec`` as trained: ``cfg.input_hw``, ``cfg.temporal`` and the head at output stride 1 (the
    losses compare maps at the input size; ``ship_checkpoint`` sets a deployed stride)."""
    changes: dict = {"head_kwargs": {k: v for k, v in spec.head_kwargs.items() if k != "output_stride"}}
    if cfg.input_hw:
        changes["input_hw"] = list(cfg.input_hw)
    if cfg.temporal:
        if spec.temporal and spec.temporal != cfg.temporal:
            raise EdgesalError(f"{spec.name} already has the temporal cell {spec.temporal!r}; "
                               f"temporal = {cfg.temporal!r} would replace it")
        from edgesal.models import temporal  # noqa: F401  (cells register on import)
        from edgesal.models.parts import TEMPORAL

        TEMPORAL.lookup(cfg.temporal)
        changes["temporal"] = cfg.temporal
    return ModelSpec.from_dict({**spec.to_dict(), **changes})


def _resolve_spec(cfg: TrainConfig) -> tuple[ModelSpec, torch.nn.Module | None, dict]:
    """(spec, initial model or None, its meta): ``cfg.init``'s architecture wins over ``cfg.model``."""
    init_model, init_meta = None, {}
    if cfg.init:  # fine-tune an existing (e.g. pruned) checkpoint
        from edgesal.models import load_checkpoint

        init_model, spec, init_meta = load_checkpoint(cfg.init, respec=lambda stored: training_spec(cfg, stored))
    else:
        spec = training_spec(cfg, get_spec(cfg.model))
    return spec, init_model, init_meta


def _fit_center_bias(model: torch.nn.Module, spec: ModelSpec, counts: np.ndarray) -> None:
    """Initialise a readout's centre bias from the training fixation counts (h, w)."""
    ys, xs = np.nonzero(counts)
    weights = counts[ys, xs]
    h, w = spec.input_hw
    points = np.repeat(np.stack([(xs + 0.5) / w, (ys + 0.5) / h], 1), weights.astype(int), axis=0)
    model.head.set_center_bias(torch.from_numpy(fit_center_prior(points)))


def _initial_model(cfg: TrainConfig, spec: ModelSpec, init_model: torch.nn.Module | None,
                   counts: np.ndarray, resume: bool) -> torch.nn.Module:
    if init_model is not None:
        return init_model.train()
    model = build_model(spec, pretrained_backbone=cfg.pretrained_backbone and not resume)
    if spec.output_kind == "log_density":
        _fit_center_bias(model, spec, counts)
    return model


def _run_meta(cfg: TrainConfig, loss_name: str, n_train: int, world: int, hint_losses: list[float],
              init_meta: dict, distill: dict | None = None) -> dict:
    meta = {"config": cfg.to_dict(), "loss": loss_name, "train_images": n_train,
            "teacher_cache": cfg.teacher_cache, "world_size": world, "hint_losses": hint_losses[:1] + hint_losses[-1:]}
    if distill is not None:
        meta["distill"] = distill
    if cfg.init:
        meta["init"] = {"path": cfg.init, "sha256": init_meta.get("sha256")}
        for key in ("pruned_channels", "pruning"):
            if key in init_meta:
                meta[key] = init_meta[key]
    return meta


def _hint_losses(cfg: TrainConfig, model: torch.nn.Module, spec: ModelSpec, arrays: TrainingArrays | None,
                 resume: bool, progress: bool) -> list[float]:
    if not (cfg.hint_teacher and cfg.hint_steps and not resume):
        return []
    if arrays is None:
        raise EdgesalError(f"hint pretraining needs image training data, not data_kind {cfg.data_kind!r}")
    from edgesal.training.hint import hint_pretrain

    return hint_pretrain(model, spec, cfg.hint_teacher, arrays, cfg.hint_steps, seed=cfg.seed, progress=progress,
                         tensors=cfg.hint_tensors, layers=cfg.feature_layers)


def check_distill_options(cfg: TrainConfig) -> None:
    """One-line errors for feature-distillation options that do nothing or miss their partner."""
    if cfg.distill and not cfg.distill_teacher:
        raise EdgesalError(f"--distill {cfg.distill} needs --distill-teacher (a shipped name or a .pt checkpoint)")
    if cfg.distill_teacher and not cfg.distill:
        raise EdgesalError("--distill-teacher is used only with --distill stats (or hint)")
    if cfg.hint_tensors and not cfg.hint_teacher:
        raise EdgesalError("--hint-tensors names tensors of --hint-teacher, which is not set")
    if cfg.hint_teacher and not cfg.hint_steps:
        raise EdgesalError("--hint-teacher needs --hint-steps N (N > 0 pretraining steps)")


def _distillation(cfg: TrainConfig, model: torch.nn.Module, spec: ModelSpec, world: int):
    """The feature-distillation term of ``cfg.distill`` on ``model`` (None without one)."""
    if not cfg.distill:
        return None
    from edgesal.models.factory import model_source
    from edgesal.training.distill import FeatureDistillation
    from edgesal.training.feature_teachers import load_feature_teacher

    source = model_source(cfg.distill_teacher)
    if source is not None and source.kind == "artefact":
        raise EdgesalError(f"--distill-teacher {cfg.distill_teacher} is an exported model; the distillation term "
                           "needs an edgesal model (name or .pt); exported teachers work with --hint-teacher")
    teacher = load_feature_teacher(cfg.distill_teacher, spec, threads=cfg.threads or 1)
    return FeatureDistillation(model, spec, teacher, cfg.distill, cfg.distill_weight, cfg.feature_layers,
                               sync=world > 1)


def train(cfg: TrainConfig, resume: bool = False, progress: bool = True,
          stop_after: int | None = None) -> TrainResult:
    """Train ``cfg.model`` on ``cfg.train``; returns the best validation loss and paths.

    ``stop_after`` interrupts the run after that many steps (as a crash or a time box would);
    ``resume=True`` later continues it exactly from ``last.pt``.
    """
    check_distill_options(cfg)
    rank, world = _dist_info()
    seed_everything(cfg.seed, cfg.threads)
    spec, init_model, init_meta = _resolve_spec(cfg)
    show = progress and rank == 0
    threads = torch.get_num_threads()
    data = load_training_data(cfg, spec, rank, world, show)
    loss_name = cfg.loss or default_loss(spec.output_kind)
    loss_fn = get_loss(loss_name)
    # the same initialisation and thread count (a teacher run by data preparation sets its own; the thread count
    # changes the float reduction order) whether data preparation ran a teacher or hit its cache
    seed_everything(cfg.seed, threads)
    model = _initial_model(cfg, spec, init_model, data.fixation_counts, resume)
    stream = data.stream
    total_steps = cfg.max_steps or cfg.epochs * stream.steps_per_epoch
    distill = _distillation(cfg, model, spec, world)
    optimizer = _optimizer(cfg, list(model.parameters()) + (list(distill.parameters()) if distill else []))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg.schedule, total_steps))
    validation = _Validation(cfg, model, spec, data.val_batches, loss_fn, optimizer, scheduler, rank, total_steps)
    validation.aux = distill
    start = validation.restore() if resume else 0
    images = getattr(stream, "arrays", None)
    hint_losses = _hint_losses(cfg, model, spec, images if isinstance(images, TrainingArrays) else None, resume, show)
    ddp_model = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    validation.meta = _run_meta(cfg, loss_name, data.n_train, world, hint_losses, init_meta,
                                distill.describe() if distill else None)
    validation.stop_after = stop_after
    model.train()
    validation.bar = tqdm(total=total_steps, initial=start, desc=f"train {spec.name}", unit="step", disable=not show)
    losses = train_steps(ddp_model, distill.wrap(loss_fn) if distill else loss_fn, optimizer, stream.get, start,
                         total_steps, scheduler=scheduler, on_step=validation.after_step, bar=validation.bar)
    validation.bar.close()
    if distill is not None:
        distill.close()
    step = start + len(losses)
    stopped_early = validation.stopped_early
    interrupted = stop_after is not None and step >= stop_after and step < total_steps and not stopped_early
    if (rank == 0 and spec.output_kind == "log_density" and validation.best_path.exists() and not interrupted
            and data.calibration is not None):
        calibrate_checkpoint(validation.best_path, data.calibration)
    if world > 1:
        dist.barrier()
    return TrainResult(validation.best_val, step, stopped_early, validation.best_path, validation.history, total_steps)
