"""FLOP cost of a (partly pruned) network and the saving ΔC_k of removing each group.

The cost model re-evaluates ``edgesal.models.flops``' per-module rules on the traced graph
with the channel counts that remain when some groups are removed, so that

    ``FlopCostModel.total(alive) == count_flops(physically_pruned_model).total_flops``

exactly (tested). Each module type's cost is :meth:`LayerPruner.flops
<edgesal.pruning.layers.LayerPruner.flops>` on shape-only (``meta``) tensors of the reduced
shapes: convolutions use the paper's ``H·W·C_out·(2·C_in/groups·K² + 1)``
(:func:`edgesal.models.flops.conv_flops`) with the *current* channel counts (a depthwise
convolution keeps groups = channels), linear layers ``rows·out·(2·in + 1)``; every other
childless module (including unregistered ones) is counted by its ``flops.py`` rule
(activations, pooling, upsampling, ``SeparableGaussianBlur``, ``ConcatDecoder`` …). Like
``count_flops``, functional operations outside modules (``x + y``, ``F.interpolate`` in a
custom ``forward``) are not counted.

``ΔC_k`` (:meth:`FlopCostModel.savings`) is the exact reduction of that total when group
``k`` is removed from the current network: the producer's output channels, the pass-through
layers' channels, *and* the consumers' input channels (which lowers the cost of every
remaining output map of the next layer). It therefore changes whenever a neighbour is
pruned, and is recomputed after every pruning step (incrementally: only groups sharing a
module with the removed group are re-evaluated).
"""

from __future__ import annotations

import numpy as np
import torch

from edgesal.pruning.dependency import DependencyGraph
from edgesal.pruning.layers import LayerPruner, pruner_for
from edgesal.pruning.tracing import FlopUnit

_UNREGISTERED = LayerPruner()  # the plain ``count_flops`` rule


class FlopCostModel:
    """FLOPs of the traced network as a function of which groups are alive.

    ``include_bn`` as in :func:`edgesal.models.flops.count_flops`.
    """

    def __init__(self, graph: DependencyGraph, include_bn: bool = False):
        self.graph = graph
        self.include_bn = include_bn
        values = graph.values
        self.full_counts = np.array([v.channels for v in values], dtype=np.int64)
        # per unit: the value indices it touches (inputs + output)
        self._unit_values: list[list[int]] = []
        for u in graph.units:
            vs = [x for x, is_t in zip(u.arg_leaves, u.tensor_leaf) if is_t]
            if u.output is not None:
                vs.append(u.output)
            self._unit_values.append(sorted(set(vs)))
        # per group: {value: number of its channels in that value}
        self.group_counts: list[dict[int, int]] = [
            {v: len(ch) for v, ch in g.elements.items()} for g in graph.groups
        ]
        value_units: dict[int, list[int]] = {}
        for ui, vs in enumerate(self._unit_values):
            for v in vs:
                value_units.setdefault(v, []).append(ui)
        self.group_units: list[list[int]] = [
            sorted({ui for v in gc for ui in value_units.get(v, [])}) for gc in self.group_counts
        ]
        self.unit_groups: list[set[int]] = [set() for _ in graph.units]
        for k, units in enumerate(self.group_units):
            for ui in units:
                self.unit_groups[ui].add(k)
        self._cache: dict[tuple, int] = {}
        self._savings: np.ndarray | None = None
        self._alive: np.ndarray | None = None
        self._counts: np.ndarray | None = None
        self._flat: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # --- counts -----------------------------------------------------------------------------
    def counts(self, alive: np.ndarray) -> np.ndarray:
        """Remaining channels of every traced value when only ``alive`` groups stay."""
        counts = self.full_counts.copy()
        for k in np.nonzero(~np.asarray(alive, dtype=bool))[0]:
            for v, n in self.group_counts[k].items():
                counts[v] -= n
        return counts

    # --- per-unit cost ----------------------------------------------------------------------
    def unit_cost(self, ui: int, counts) -> int:
        """FLOPs of unit ``ui`` with ``counts`` (remaining channels per value)."""
        return self._cost(ui, tuple(int(counts[v]) for v in self._unit_values[ui]))

    def _cost(self, ui: int, key: tuple[int, ...]) -> int:
        hit = self._cache.get((ui, key))
        if hit is None:
            hit = self._cache[(ui, key)] = self._evaluate(self.graph.units[ui], dict(zip(self._unit_values[ui], key)))
        return hit

    def _shape(self, v: int, counts: dict[int, int]) -> tuple[int, ...]:
        shape = list(self.graph.values[v].shape)
        if len(shape) >= 2:
            shape[1] = int(counts[v])
        return tuple(shape)

    def _evaluate(self, u: FlopUnit, counts: dict[int, int]) -> int:
        if u.output is None:
            return 0
        inputs = [torch.empty(self._shape(x, counts), device="meta")
                  for x, is_t in zip(u.arg_leaves, u.tensor_leaf) if is_t]
        out = torch.empty(self._shape(u.output, counts), device="meta")
        return (pruner_for(u.module) or _UNREGISTERED).flops(u.module, inputs, out, self.include_bn)

    # --- totals and savings -----------------------------------------------------------------
    def total(self, alive: np.ndarray | None = None) -> int:
        """FLOPs of the network with only ``alive`` groups (all groups when None)."""
        counts = (self.full_counts if alive is None else self.counts(alive)).tolist()
        return sum(self.unit_cost(ui, counts) for ui in range(len(self.graph.units)))

    def _saving(self, k: int, counts: list[int]) -> int:
        delta = self.group_counts[k]
        for v, n in delta.items():
            if counts[v] - n < 1:
                return 0
        total = 0
        for ui in self.group_units[k]:
            vs = self._unit_values[ui]
            before = tuple(counts[v] for v in vs)
            after = tuple(counts[v] - delta.get(v, 0) for v in vs)
            total += self._cost(ui, before) - self._cost(ui, after)
        return total

    def eligible(self, alive: np.ndarray) -> np.ndarray:
        """Groups that are alive and whose removal leaves ≥ 1 channel in every tensor they touch."""
        alive = np.asarray(alive, dtype=bool)
        counts = self.counts(alive) if self._counts is None or not np.array_equal(alive, self._alive) \
            else self._counts
        if self._flat is None:
            starts, vals, ns = [], [], []
            for gc in self.group_counts:
                starts.append(len(vals))
                vals += list(gc)
                ns += list(gc.values())
            self._flat = (np.array(starts, dtype=np.int64), np.array(vals, dtype=np.int64),
                          np.array(ns, dtype=np.int64))
        starts, vals, ns = self._flat
        if len(starts) == 0:
            return alive.copy()
        ok_flat = counts[vals] - ns >= 1
        return alive & np.logical_and.reduceat(ok_flat, starts)

    def savings(self, alive: np.ndarray) -> np.ndarray:
        """ΔC_k ≥ 0 for every group (FLOPs saved by removing it now; 0 if not alive).

        Cached: after :meth:`remove` only the groups sharing a module with the removed
        group are re-evaluated.
        """
        alive = np.asarray(alive, dtype=bool)
        if self._savings is None or self._alive is None or not np.array_equal(alive, self._alive):
            self._alive = alive.copy()
            self._counts = self.counts(alive)
            counts = self._counts.tolist()
            self._savings = np.array(
                [self._saving(k, counts) if alive[k] else 0 for k in range(len(alive))], dtype=np.int64
            )
        return self._savings.copy()

    def remove(self, alive: np.ndarray, k: int) -> np.ndarray:
        """Mark group ``k`` removed; returns the new alive vector and updates the savings."""
        alive = np.asarray(alive, dtype=bool)
        self.savings(alive)  # make sure the cache is for ``alive``
        new_alive = alive.copy()
        new_alive[k] = False
        counts = self._counts.copy()
        for v, n in self.group_counts[k].items():
            counts[v] -= n
        touched = {j for ui in self.group_units[k] for j in self.unit_groups[ui]}
        savings = self._savings.copy()
        savings[k] = 0
        counts_list = counts.tolist()
        for j in touched:
            if new_alive[j]:
                savings[j] = self._saving(j, counts_list)
        self._alive, self._counts, self._savings = new_alive, counts, savings
        return new_alive
