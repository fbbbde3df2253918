"""The pruner: one object that composes graph, masks, FLOP costs, criterion and selection.

:meth:`Pruner.step` is one pruning step of Theis et al. (2018): accumulate the signal over
``signal_steps`` training steps, score every group, then remove up to ``maps_per_step``
maps (blocks with ``channel_multiple``), re-estimating the FLOP savings after each removal.
The driver (:func:`~edgesal.pruning.prune.prune_model`) calls ``step()`` until
:meth:`Pruner.done`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from edgesal.pruning.config import PruneConfig
from edgesal.pruning.cost import FlopCostModel
from edgesal.pruning.criteria import make_criterion
from edgesal.pruning.dependency import DependencyGraph
from edgesal.pruning.masks import ChannelMasks
from edgesal.pruning.selection import Choice, alive_per_layer, parse_flop_target, round_candidates, select_block
from edgesal.pruning.steps import Objective, set_train_mode, training_step

# with maps_per_step > 1: a round removes at most this share of a layer's maps (≥ 1 map or
# block), since the layer's signal is stale once some of its maps are gone
LAYER_SHARE_PER_ROUND = 0.05


class Pruner:
    """Greedy pruning of a masked model; progress in ``alive``, ``n_pruned``, ``flops_now``,
    ``train_step`` and ``history`` (one entry per removed map).

    ``batches(step)``: the training batch of global step ``step``; ``after_block()`` runs
    after every removed block (snapshots).
    """

    def __init__(self, net: nn.Module, graph: DependencyGraph, cfg: PruneConfig, objective: Objective,
                 batches: Callable[[int], dict], state: dict | None = None):
        self.net, self.graph, self.cfg, self.objective, self.batches = net, graph, cfg, objective, batches
        self.costs = FlopCostModel(graph)
        self.flops_start = self.costs.total()
        self.target = parse_flop_target(cfg.flop_target, self.flops_start)
        self.alive = np.array(state["alive"], dtype=bool) if state else np.ones(graph.num_groups, dtype=bool)
        self.n_pruned = int((~self.alive).sum())
        self.train_step = int(state["train_step"]) if state else 0
        self.history: list[dict] = list(state["history"]) if state else []
        self.flops_now = self.costs.total(self.alive)
        self.masks = ChannelMasks(graph, self.alive)
        self.criterion = make_criterion(cfg.method, graph, self.masks.spatial_elements)
        self.optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                         weight_decay=cfg.weight_decay)
        self.layer_of = np.unique([g.layer for g in graph.groups], return_inverse=True)[1]
        self.min_alive = np.maximum(1, np.ceil(cfg.min_keep * np.bincount(self.layer_of)))  # per-layer floor
        self.after_block: Callable[[], None] = lambda: None
        self.bar: tqdm | None = None
        self.last_removed = -1

    def done(self) -> bool:
        """The stop rule: ``n_prune`` maps removed or the FLOP target reached."""
        cfg = self.cfg
        return ((cfg.n_prune is not None and self.n_pruned >= cfg.n_prune)
                or (self.target is not None and self.flops_now <= self.target))

    def step(self) -> int:
        """One pruning step (signal round, then removals); returns the number of maps removed."""
        losses = self.signal_round()
        scores = self.criterion.scores(self.alive, self.net)
        removed = self.remove_round(scores, float(np.mean(losses)) if losses else None)
        if removed:
            self.masks.set_alive(self.alive)
        return removed

    def signal_round(self) -> list[float]:
        """``signal_steps`` training steps feeding the criterion (none for data-free methods
        without retraining); returns their training losses."""
        cfg = self.cfg
        self.criterion.reset()
        n_signal = cfg.signal_steps if (self.criterion.needs_data or cfg.retrain) else 0
        losses = []
        for _ in range(n_signal):
            set_train_mode(self.net, cfg.bn)
            loss, signal = training_step(self.net, self.masks, self.batches(self.train_step), self.objective,
                                         self.optimizer if cfg.retrain else None, self.criterion)
            if signal is not None:
                self.criterion.update(signal)
            losses.append(loss)
            self.train_step += 1
        self.net.eval()
        return losses

    def remove_round(self, scores: np.ndarray, train_loss: float | None) -> int:
        """Remove up to ``maps_per_step`` maps: the first pick always, later ones only if led by
        one of the round's best-ranked candidates and within the per-layer share."""
        cfg = self.cfg
        rule = {"beta": cfg.beta, "beta_star": cfg.beta_star, "flops_ref": self.flops_start}
        per_round = max(cfg.maps_per_step, 1)  # paper: 1; costs are re-estimated after each removal
        candidates = round_candidates(scores, self.costs.savings(self.alive), self.costs.eligible(self.alive),
                                      per_round, **rule)
        budget = np.maximum(1, alive_per_layer(self.layer_of, self.alive, len(self.min_alive)) * LAYER_SHARE_PER_ROUND)
        taken = np.zeros(len(self.min_alive))
        removed = 0
        while removed < per_round:
            allowed = self.costs.eligible(self.alive) & (taken[self.layer_of] < budget[self.layer_of])
            block, choice = select_block(scores, self.costs.savings(self.alive), allowed, self.layer_of, self.alive,
                                         self.min_alive, cfg.channel_multiple,
                                         lead=candidates if removed else None, **rule)
            if not block:
                break
            taken[self.layer_of[block[0]]] += len(block)
            for k in block:
                self.remove(k, float(scores[k]), choice, train_loss)
            removed += len(block)
            self.after_block()  # after the whole block: snapshots keep the channel multiples
            if self.done():
                break
        return removed

    def remove(self, k: int, score: float, choice: Choice, train_loss: float | None) -> None:
        """Remove group ``k`` (masked) and record it in the history."""
        saved = int(self.costs.savings(self.alive)[k])
        self.alive = self.costs.remove(self.alive, k)
        self.flops_now -= saved
        self.n_pruned += 1
        self.last_removed = k
        self.history.append({
            "n": self.n_pruned, "train_step": self.train_step, "group": self.graph.groups[k].name, "index": k,
            "score": score, "flops_saved": saved, "objective": choice.objective, "beta_k": choice.beta_k,
            "flops": int(self.flops_now), "train_loss": train_loss,
        })
        if self.bar is not None:
            self.bar.update(1)


__all__ = ["LAYER_SHARE_PER_ROUND", "Pruner"]
