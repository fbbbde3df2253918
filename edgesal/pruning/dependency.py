"""Channel dependency graph: which feature maps can be pruned, and what goes with them.

Torch-Pruning's "DepGraph" idea in three parts: :mod:`~edgesal.pruning.tracing` records
every operation of one forward pass, :mod:`~edgesal.pruning.layers` says which
:class:`~edgesal.pruning.layers.ChannelRule` each operation follows, and this module joins
the channels that must go together. :func:`trace_dependencies` does all three.

Every recorded tensor is a :class:`~edgesal.pruning.tracing.Value` whose channel dimension
(dim 1) has one *element* per channel. A union-find over elements joins the channels that
must be removed together (the rules of :mod:`~edgesal.pruning.layers`):

==============================  ==============================================================
operation                       channel rule
==============================  ==============================================================
Conv (groups = 1), Linear       *producer* of its output channels, *consumer* of its input
                                channels (weights sliced on both sides; no union)
depthwise Conv (groups = in =   pass-through: in[c] ≡ out[c] (weight/bias sliced)
out), BatchNorm, PReLU,
activations, pads, Identity,
Dropout, Upsample, interpolate,
pooling, spatial reductions
element-wise ops (add, mul …)   out[c] ≡ every input with the same channel count (residual
                                additions couple all their inputs); a broadcast input with 1
                                channel is blocked
``cat`` along channels          out[offset_i + c] ≡ input_i[c]
PixelShuffle(r)                 in[c·r² + j] ≡ out[c] for j < r² (PixelUnshuffle inversely)
anything else (reshape,         *blocked*: its input and output channels are never pruned
softmax, functional conv,
grouped conv, modules called
twice, the model input/output)
==============================  ==============================================================

A union-find class that contains no blocked element and at least one consumer channel is a
prunable :class:`ChannelGroup` ("feature map k" of the Fisher-pruning paper): removing it
slices every producer's output channels, every pass-through op's channels and every
consumer's input channels in the class. Typical groups: one expanded channel of an inverted
residual block (expand conv → depthwise → project), one channel of a residual stream (all
convs writing into the stream and all readers), r² pixel-shuffle inputs with their one
output channel, a readout hidden map. The readout's last 1-channel map, blur, centre bias
and softmax (the head's tail) are blocked, as is everything that reaches the model output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from torch import Tensor, nn

from edgesal.errors import EdgesalError
from edgesal.pruning.layers import BLOCK, FOLLOW, PRODUCE
from edgesal.pruning.tracing import Node, TracedGraph, Value, trace


@dataclass
class ChannelGroup:
    """Channels removed together: one prunable "feature map" ``k``."""

    index: int
    name: str
    elements: dict[int, list[int]]  # value index -> channel indices
    sources: list[tuple[str, list[int]]]  # (producer module, its output channels)
    consumers: list[tuple[str, list[int]]]  # (consumer module, its input channels)
    layer: str  # producers' names: groups sharing it form one "layer" (Taylor normalisation)

    @property
    def size(self) -> int:
        """Number of producer channels (r² for a pixel-shuffle group, 1 for a plain map)."""
        return sum(len(ch) for _, ch in self.sources)


class ChannelSets:
    """Union-find over the channels of all values, with "blocked" and "consumed" flags.

    What a :class:`~edgesal.pruning.layers.ChannelRule` may do: :meth:`join` two values
    channel by channel, :meth:`join_channels` chosen channels, :meth:`block` a value (its
    channels are never pruned), :meth:`mark_consumed` (read by a producer/consumer layer).
    """

    def __init__(self, values: list[Value]):
        self.values = values
        n = sum(v.channels for v in values)
        self.parent = list(range(n))
        self.blocked = np.zeros(n, dtype=bool)
        self.consumed = np.zeros(n, dtype=bool)

    def find(self, a: int) -> int:
        parent = self.parent
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    def _union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb

    def _span(self, v: int) -> slice:
        val = self.values[v]
        return slice(val.offset, val.offset + val.channels)

    def block(self, v: int) -> None:
        self.blocked[self._span(v)] = True

    def mark_consumed(self, v: int) -> None:
        self.consumed[self._span(v)] = True

    def join_channels(self, a: int, channels_a: Iterable[int], b: int, channels_b: Iterable[int]) -> None:
        """Join channel ``channels_a[i]`` of value ``a`` with ``channels_b[i]`` of value ``b``."""
        oa, ob = self.values[a].offset, self.values[b].offset
        for ca, cb in zip(channels_a, channels_b):
            self._union(oa + ca, ob + cb)

    def join(self, a: int, b: int) -> None:
        """Channel ``c`` of ``a`` ≡ channel ``c`` of ``b``; both blocked if the counts differ."""
        n = self.values[a].channels
        if n != self.values[b].channels:
            self.block(a)
            self.block(b)
            return
        self.join_channels(a, range(n), b, range(n))

    def prunable_roots(self) -> tuple[np.ndarray, dict[int, int]]:
        """Root of every element, and group index by root for the classes that are read by a
        consumer and contain no blocked element (numbered by first appearance)."""
        n = len(self.parent)
        roots = np.fromiter((self.find(e) for e in range(n)), dtype=np.int64, count=n)
        good = set(roots[self.consumed].tolist()) - set(roots[self.blocked].tolist())
        root_to_group: dict[int, int] = {}
        for r in roots.tolist():
            if r in good and r not in root_to_group:
                root_to_group[r] = len(root_to_group)
        return roots, root_to_group


def _fmt_channels(ch: list[int]) -> str:
    if len(ch) == 1:
        return str(ch[0])
    if ch == list(range(ch[0], ch[-1] + 1)):
        return f"{ch[0]}..{ch[-1]}"
    return ",".join(map(str, ch))


def _channels_by_group(groups_here: np.ndarray) -> dict[int, list[int]]:
    per: dict[int, list[int]] = {}
    for c, k in enumerate(groups_here.tolist()):
        if k >= 0:
            per.setdefault(k, []).append(c)
    return per


class DependencyGraph:
    """The traced graph, its prunable channel groups, and per-value group maps.

    Attributes: ``values``, ``nodes``, ``units`` (FLOP units), ``groups``;
    ``value_groups[v]``: int array (channels of value ``v``) with the group index of each
    channel or -1 (never pruned); ``input_shape``; ``module_outputs`` (module name → value
    indices of its first call's output tensors).
    """

    def __init__(self, model: nn.Module, traced: TracedGraph):
        self.model = model
        self.input_shape = traced.input_shape
        self.values, self.nodes, self.units = traced.values, traced.nodes, traced.units
        self.module_calls, self.module_outputs = traced.module_calls, traced.module_outputs
        self.module_names = {m: n for n, m in model.named_modules()}
        self._block_reused_modules()
        self._build_groups()

    def _block_reused_modules(self) -> None:
        """Modules with channel-shaped parameters (anything but a parameter-free channel-wise
        op) must be called exactly once."""
        multi = {n for n, k in self.module_calls.items() if k > 1}
        for node in self.nodes:
            reusable = node.rule is FOLLOW and node.pruner is None
            if node.module is not None and node.name in multi and not reusable:
                node.rule, node.pruner = BLOCK, None

    def _build_groups(self) -> None:
        sets = ChannelSets(self.values)
        for node in self.nodes:
            node.rule.couple(node, sets)
        roots, root_to_group = sets.prunable_roots()
        self.value_groups: list[np.ndarray] = []
        elements: list[dict[int, list[int]]] = [dict() for _ in root_to_group]
        for val in self.values:
            g = np.array([root_to_group.get(int(r), -1) for r in roots[val.offset:val.offset + val.channels]],
                         dtype=np.int64)
            for c, k in enumerate(g.tolist()):
                if k >= 0:
                    elements[k].setdefault(val.index, []).append(c)
            self.value_groups.append(g)
        sources, consumers = self._producers_and_consumers(len(root_to_group))
        self.groups = [self._make_group(k, elements[k], sources[k], consumers[k]) for k in range(len(root_to_group))]

    def _producers_and_consumers(self, n_groups: int) -> tuple[list[list], list[list]]:
        """Per group: (module, output channels) of its producers and (module, input channels) of
        its consumers."""
        sources: list[list] = [[] for _ in range(n_groups)]
        consumers: list[list] = [[] for _ in range(n_groups)]
        for node in self.nodes:
            if node.rule is not PRODUCE:
                continue
            for k, chans in _channels_by_group(self.value_groups[node.outputs[0]]).items():
                sources[k].append((node.name, chans))
            for k, chans in _channels_by_group(self.value_groups[node.inputs[0]]).items():
                consumers[k].append((node.name, chans))
        return sources, consumers

    @staticmethod
    def _make_group(k: int, elements: dict[int, list[int]], sources: list, consumers: list) -> ChannelGroup:
        if not sources:  # only possible with exotic graphs; never prune those
            raise EdgesalError(f"channel group {k} has consumers but no producer")
        src_name, src_ch = sources[0]
        label = f"{src_name}[{_fmt_channels(src_ch)}]"
        if len(sources) > 1:
            label += f"+{len(sources) - 1}"
        layer = "+".join(sorted({n for n, _ in sources}))
        return ChannelGroup(k, label, elements, sources, consumers, layer)

    # convenience
    @property
    def num_groups(self) -> int:
        return len(self.groups)

    def node_by_module(self, name: str) -> Node | None:
        for node in self.nodes:
            if node.name == name and node.module is not None:
                return node
        return None

    def consumer_sites(self) -> list[tuple[nn.Module, str, int, np.ndarray]]:
        """(module, name, input value, per-input-channel group index or -1) of every consumer
        (conv/linear) that reads at least one prunable channel."""
        sites = []
        for node in self.nodes:
            if node.rule is PRODUCE:
                v = node.inputs[0]
                g = self.value_groups[v]
                if (g >= 0).any():
                    sites.append((node.module, node.name, v, g))
        return sites

    def kept_channels(self, alive: np.ndarray) -> list[np.ndarray]:
        """Per value: indices of the channels kept when only groups with ``alive[k]`` stay."""
        alive = np.asarray(alive, dtype=bool)
        kept = []
        for g in self.value_groups:
            keep = np.ones(len(g), dtype=bool)
            pruned = g >= 0
            keep[pruned] = alive[g[pruned]]
            kept.append(np.nonzero(keep)[0])
        return kept

    def summary(self) -> dict:
        """Counts by kind, for reports: groups, their producer channels, coupled groups."""
        coupled = sum(1 for g in self.groups if len(g.sources) > 1)
        multi = sum(1 for g in self.groups if g.size > 1)
        return {"groups": self.num_groups, "residual_or_coupled": coupled, "multi_channel": multi,
                "layers": len({g.layer for g in self.groups})}


def trace_dependencies(model: nn.Module, input_shape: tuple[int, ...] | None = None,
                       example_input: Tensor | None = None) -> DependencyGraph:
    """Trace ``model`` once (eval mode, no grad) and build its :class:`DependencyGraph`.

    ``input_shape`` (batch 1 recommended) or ``example_input``; the model's training flag is
    restored afterwards.
    """
    return DependencyGraph(model, trace(model, input_shape, example_input))


__all__ = ["ChannelGroup", "ChannelSets", "DependencyGraph", "trace_dependencies"]
