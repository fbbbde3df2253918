"""Training while pruning: the objective, one signal step, and fine-tuning.

A signal step is one SGD step on the training loss that also yields what the criterion
needs (per-data-point ``∂L_n/∂m_k`` from one backward pass with per-sample masks, and/or
activation magnitudes). Fine-tuning is :func:`edgesal.training.trainer.train_steps`, the
loop ``edgesal train`` uses.

BatchNorm: with ``bn="eval"`` (default) BatchNorm layers use their running statistics
(their affine parameters still train), so data points do not interact and the per-sample
gradients are exact; ``bn="train"`` uses batch statistics.
"""

from __future__ import annotations

import torch
from torch import nn
from tqdm import tqdm

from edgesal.errors import EdgesalError
from edgesal.losses import default_loss, get_loss
from edgesal.models.registry import ModelSpec
from edgesal.pruning.criteria import Criterion, SignalBatch
from edgesal.pruning.masks import ChannelMasks
from edgesal.training.batches import BatchStream
from edgesal.training.trainer import check_finite, gradient_step, train_steps

PRUNE_FLIP_KEY = 7  # flip generator key of pruning's batch stream (training uses the rank)


def prune_batches(arrays, spec: ModelSpec, batch: int, seed: int, hflip: bool) -> BatchStream:
    """The batch stream of a pruning run (signal steps, then fine-tuning continues it)."""
    return BatchStream(arrays, spec.mean, spec.std, batch, seed, hflip, flip_key=PRUNE_FLIP_KEY)


class Objective:
    """Training loss and per-data-point signal loss of a model kind."""

    def __init__(self, spec: ModelSpec, loss: str | None, signal_loss: str | None, has_teacher: bool):
        self.train_name = loss or default_loss(spec.output_kind)
        self.signal_name = signal_loss or ("fixation_nll" if spec.output_kind == "log_density" else self.train_name)
        self.train = get_loss(self.train_name)
        self.signal = get_loss(self.signal_name)
        same = self.signal_name == self.train_name
        if {self.signal_name, self.train_name} == {"theis", "fixation_nll"} and not has_teacher:
            same = True  # theis without a teacher is the fixation NLL
        self.same = same

    def valid(self, batch: dict) -> torch.Tensor:
        """(B,) data points the signal counts (images with fixations for ``fixation_nll``)."""
        if self.signal_name == "fixation_nll":
            return batch["fixation_map"].flatten(1).sum(1) > 0
        return torch.ones(batch["image"].shape[0], dtype=torch.bool)


def set_train_mode(model: nn.Module, bn: str) -> None:
    """``model.train()``, with BatchNorm layers in eval mode when ``bn == "eval"``."""
    if bn not in ("eval", "train"):
        raise EdgesalError(f"bn must be 'eval' or 'train', got {bn!r}")
    model.train()
    if bn == "eval":
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()


def _slice_batch(batch: dict, n: int) -> dict:
    return {k: (v[n:n + 1] if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}


def per_sample_losses(loss_fn, output: torch.Tensor, batch: dict) -> torch.Tensor:
    """(B,) losses, each computed by ``loss_fn`` on one data point."""
    return torch.stack([loss_fn(output[n:n + 1], _slice_batch(batch, n)) for n in range(output.shape[0])])


def _loss_and_mask_grad(out: torch.Tensor, batch: dict, mask: torch.Tensor, objective: Objective,
                        optimizer: torch.optim.Optimizer | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Training loss (after the SGD update, if any) and ``∂L_n/∂m_k`` (B, K)."""
    per = per_sample_losses(objective.signal, out, batch)
    if optimizer is not None and objective.same:  # one backward pass gives both
        loss = per.mean()
        check_finite(loss, "pruning diverged")
        gradient_step(optimizer, loss)
        return loss, mask.grad * mask.shape[0]
    (grad,) = torch.autograd.grad(per.sum(), mask, retain_graph=optimizer is not None)
    loss = objective.train(out, batch) if optimizer is not None else per.mean()
    check_finite(loss, "pruning diverged")
    if optimizer is not None:
        gradient_step(optimizer, loss)
    return loss, grad


def training_step(model: nn.Module, masks: ChannelMasks | None, batch: dict, objective: Objective,
                  optimizer: torch.optim.Optimizer | None,
                  criterion: Criterion | None = None) -> tuple[float, SignalBatch | None]:
    """One step: forward with (per-sample) masks, signal for ``criterion``, SGD update unless
    ``optimizer`` is None. Returns (training-loss value, signal)."""
    need_grad = criterion is not None and criterion.needs_mask_grad
    mask = None
    if masks is not None:
        masks.record_activations = criterion is not None and criterion.needs_activations
        mask = torch.ones(batch["image"].shape[0], masks.num_groups, requires_grad=True) if need_grad else None
        masks.set_mask(mask)
    out = model(batch["image"])
    grad = None
    if need_grad:
        loss, grad = _loss_and_mask_grad(out, batch, mask, objective, optimizer)
    else:
        loss = objective.train(out, batch)
        check_finite(loss, "pruning diverged")
        if optimizer is not None:
            gradient_step(optimizer, loss)
    signal = None
    if criterion is not None and masks is not None:
        act = masks.take_activations() if criterion.needs_activations else None
        signal = SignalBatch(grad.detach().to(torch.float64) if grad is not None else None, act,
                             objective.valid(batch))
    if masks is not None:
        masks.set_mask(None)
        masks.record_activations = False
    return float(loss.detach()), signal


def finetune(model: nn.Module, data: BatchStream, objective: Objective, steps: int, lr: float, momentum: float,
             weight_decay: float, bn: str, start_step: int = 0, optimizer_state: dict | None = None,
             on_checkpoint=None, checkpoint_every: int = 100, progress: bool = True,
             data_offset: int = 0) -> list[float]:
    """SGD fine-tuning of a (physically pruned) model; returns the per-step losses.

    Batches are ``data.get(data_offset + step)`` (continuing the pruning run's data order);
    ``on_checkpoint(step, optimizer)`` every ``checkpoint_every`` steps and at the end.
    """
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    if optimizer_state:
        opt.load_state_dict(optimizer_state)
    set_train_mode(model, bn)

    def checkpoint(step: int, loss: float) -> bool:
        if on_checkpoint is not None and (step % checkpoint_every == 0 or step == steps):
            on_checkpoint(step, opt)
        return False

    bar = tqdm(total=steps, initial=start_step, desc="fine-tune", unit="step", disable=not progress)
    losses = train_steps(model, objective.train, opt, lambda step: data.get(data_offset + step), start_step, steps,
                         on_step=checkpoint, bar=bar, what="fine-tuning")
    bar.close()
    model.eval()
    return losses


__all__ = ["Objective", "finetune", "per_sample_losses", "prune_batches", "set_train_mode", "training_step"]
