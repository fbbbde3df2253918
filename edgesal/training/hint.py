"""Hint pretraining (FastSal): regress a frozen edgesal teacher's backbone features from the
student's through 1×1 adapters (``HintLoss``) before the main training."""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from edgesal.losses import HintLoss
from edgesal.models import load_checkpoint
from edgesal.training.arrays import TrainingArrays
from edgesal.training.batches import epoch_order, make_batch
from edgesal.training.trainer import gradient_step


def hint_pretrain(student: torch.nn.Module, spec, teacher_path: str, arrays: TrainingArrays, steps: int,
                  batch: int = 8, lr: float = 1e-3, seed: int = 0, progress: bool = True) -> list[float]:
    """Train the student's backbone for ``steps`` steps on the hint loss; returns the losses."""
    teacher, _, _ = load_checkpoint(teacher_path)
    teacher.eval().requires_grad_(False)
    probe = make_batch(arrays, np.arange(min(2, len(arrays))), spec.mean, spec.std)["image"]
    with torch.no_grad():
        s_feats, t_feats = student.backbone(probe), teacher.backbone(probe)
    pairs = min(len(s_feats), len(t_feats))
    hint = HintLoss([f.shape[1] for f in s_feats[-pairs:]], [f.shape[1] for f in t_feats[-pairs:]])
    optimizer = torch.optim.Adam(list(student.backbone.parameters()) + list(hint.parameters()), lr=lr)
    losses = []
    order = epoch_order(len(arrays), seed, 0)
    student.train()
    for step in tqdm(range(steps), desc="hint pretraining", unit="step", disable=not progress):
        start = (step * batch) % max(len(order) - batch + 1, 1)
        x = make_batch(arrays, order[start:start + batch], spec.mean, spec.std)["image"]
        with torch.no_grad():
            targets = teacher.backbone(x)[-pairs:]
        loss = hint(student.backbone(x)[-pairs:], targets)
        gradient_step(optimizer, loss)
        losses.append(loss.item())
    return losses
