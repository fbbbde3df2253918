"""Importance criteria ("pruning signals") behind one interface.

Every criterion estimates, per prunable group ``k``, the increase of the loss when ``k`` is
removed (``scores()``: lower = pruned first). They are fed once per training step with a
:class:`SignalBatch` and reset after every pruning step.

=================  =========================================================================
``fisher``         Theis et al. (2018): ``g_nk = −Σ_ij a_nkij ∂log Q(z_n|I_n)/∂a_nkij`` per
                   data point (= ∂L_n/∂m_k, ``L_n = −log Q``), ``Δ_k = 1/(2N) Σ_n g_nk²`` (an
                   estimate of the loss increase in nats per data point)
``taylor``         Molchanov et al. (2017): ``Θ_k = mean_n |g_nk / M_k|`` (``M_k`` activations
                   per data point), L2-normalised within each layer: ``Θ_k / ‖Θ_layer‖₂``
``taylor_unnorm``  the same without the per-layer normalisation
``l1a``            mean absolute activation of the group where its consumers read it
``l1w``            Σ over the group's producing filters of their mean absolute weight
                   (data-free; evaluated on the current weights)
=================  =========================================================================

A "layer" is the set of producer modules of a group (``ChannelGroup.layer``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from edgesal.errors import EdgesalError
from edgesal.pruning.dependency import DependencyGraph


@dataclass
class SignalBatch:
    """What one training step tells the criteria (all on CPU, float64).

    ``mask_grad``: (B, K) ``∂L_n/∂m_k`` per data point (``= g_nk``); ``act_abs``: (B, K) mean
    ``|a|``; ``valid``: (B,) data points to count (e.g. images with fixations).
    """

    mask_grad: Tensor | None
    act_abs: Tensor | None
    valid: Tensor


class Criterion(ABC):
    """Interface: ``reset()``, ``update(SignalBatch)`` per step, ``scores(alive, model)``."""

    name = "criterion"
    needs_mask_grad = False  # per-data-point ∂L/∂m
    needs_activations = False
    needs_data = True

    def __init__(self, graph: DependencyGraph, spatial_elements: np.ndarray | None = None):
        self.graph = graph
        self.num_groups = graph.num_groups
        self.spatial_elements = spatial_elements
        self.reset()

    def reset(self) -> None:
        self.total = np.zeros(self.num_groups, dtype=np.float64)
        self.count = 0

    def update(self, batch: SignalBatch) -> None:  # noqa: B027  # pragma: no cover - overridden
        pass

    @abstractmethod
    def scores(self, alive: np.ndarray, model: nn.Module | None = None) -> np.ndarray:
        """(K,) estimated loss increase per group (values for removed groups are meaningless)."""


def _valid_rows(t: Tensor, valid: Tensor) -> np.ndarray:
    return t[valid.bool()].to(torch.float64).cpu().numpy()


class FisherCriterion(Criterion):
    name = "fisher"
    needs_mask_grad = True

    def update(self, batch: SignalBatch) -> None:
        g = _valid_rows(batch.mask_grad, batch.valid)
        self.total += (g**2).sum(axis=0)
        self.count += g.shape[0]

    def scores(self, alive, model=None) -> np.ndarray:
        return self.total / (2 * max(self.count, 1))


class TaylorCriterion(Criterion):
    name = "taylor"
    needs_mask_grad = True
    normalise = True

    def update(self, batch: SignalBatch) -> None:
        g = _valid_rows(batch.mask_grad, batch.valid)
        m = np.maximum(self.spatial_elements, 1)
        self.total += np.abs(g / m).sum(axis=0)
        self.count += g.shape[0]

    def scores(self, alive, model=None) -> np.ndarray:
        theta = self.total / max(self.count, 1)
        if not self.normalise:
            return theta
        alive = np.asarray(alive, dtype=bool)
        out = theta.copy()
        layers: dict[str, list[int]] = {}
        for g in self.graph.groups:
            if alive[g.index]:
                layers.setdefault(g.layer, []).append(g.index)
        for idx in layers.values():
            norm = float(np.sqrt((theta[idx] ** 2).sum()))
            out[idx] = theta[idx] / norm if norm > 0 else 0.0
        return out


class TaylorUnnormCriterion(TaylorCriterion):
    name = "taylor_unnorm"
    normalise = False


class L1ActivationCriterion(Criterion):
    name = "l1a"
    needs_activations = True

    def update(self, batch: SignalBatch) -> None:
        a = _valid_rows(batch.act_abs, batch.valid)
        self.total += a.sum(axis=0)
        self.count += a.shape[0]

    def scores(self, alive, model=None) -> np.ndarray:
        return self.total / max(self.count, 1)


class L1WeightCriterion(Criterion):
    name = "l1w"
    needs_data = False

    def reset(self) -> None:
        super().reset()
        if not hasattr(self, "_layout"):
            names: list[str] = []
            pos: dict[str, int] = {}
            mod_idx, chans, starts = [], [], []
            for g in self.graph.groups:
                starts.append(len(chans))
                for name, ch in g.sources:
                    if name not in pos:
                        pos[name] = len(names)
                        names.append(name)
                    mod_idx += [pos[name]] * len(ch)
                    chans += list(ch)
            self._layout = (names, np.array(mod_idx, dtype=np.int64), np.array(chans, dtype=np.int64),
                            np.array(starts, dtype=np.int64))

    def scores(self, alive, model=None) -> np.ndarray:
        if model is None:
            raise ValueError("l1w needs the model")
        names, mod_idx, chans, starts = self._layout
        if len(starts) == 0:
            return np.zeros(0)
        modules = dict(model.named_modules())
        per_filter = [modules[n].weight.detach().abs().flatten(1).mean(1).to(torch.float64).cpu().numpy()
                      for n in names]
        offsets = np.cumsum([0] + [len(p) for p in per_filter[:-1]])
        flat = np.concatenate(per_filter)[offsets[mod_idx] + chans]
        return np.add.reduceat(flat, starts)


CRITERIA: dict[str, type[Criterion]] = {
    c.name: c for c in (FisherCriterion, TaylorCriterion, TaylorUnnormCriterion, L1ActivationCriterion,
                        L1WeightCriterion)
}


def make_criterion(name: str, graph: DependencyGraph, spatial_elements: np.ndarray | None = None) -> Criterion:
    """Criterion by name (fisher, taylor, taylor_unnorm, l1a, l1w)."""
    try:
        cls = CRITERIA[name]
    except KeyError:
        raise EdgesalError(f"unknown pruning method {name!r}; choose from {', '.join(CRITERIA)}") from None
    return cls(graph, spatial_elements)
