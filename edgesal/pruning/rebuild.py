"""Physical removal of pruned channel groups.

:func:`physically_prune` turns a masked model into a smaller dense one: every traced module
with channel-shaped tensors is sliced by its :class:`~edgesal.pruning.layers.LayerPruner`
(convolutions on both sides — depthwise ones keep ``groups = in = out`` —, BatchNorm,
per-channel PReLU, Linear). Residual groups, concatenation offsets and pixel-shuffle groups
are handled by the dependency graph (all their channels are listed per tensor).
Informational attributes ``out_channels`` (decoders) and ``feature_channels`` (backbones)
are updated too.

The pruned architecture is recorded in checkpoints by
:func:`edgesal.models.channel_config.pruned_channel_config` and rebuilt by
:func:`~edgesal.models.channel_config.apply_channel_config` (re-exported here).
"""

from __future__ import annotations

import copy

import numpy as np
from torch import nn

from edgesal.models.channel_config import apply_channel_config, channel_layout, pruned_channel_config
from edgesal.pruning.dependency import DependencyGraph


def physically_prune(model: nn.Module, graph: DependencyGraph, alive: np.ndarray, inplace: bool = False) -> nn.Module:
    """A dense copy of ``model`` (traced as ``graph``) without the groups where ``alive`` is False.

    In eval mode its output equals the masked model's (:class:`~edgesal.pruning.masks.ChannelMasks`).
    """
    alive = np.asarray(alive, dtype=bool)
    if len(alive) != graph.num_groups:
        raise ValueError(f"alive has {len(alive)} entries, the graph {graph.num_groups} groups")
    target = model if inplace else copy.deepcopy(model)
    modules = dict(target.named_modules())
    kept = graph.kept_channels(alive)
    for node in graph.nodes:
        if node.module is None or node.pruner is None:
            continue
        keep_in, keep_out = kept[node.inputs[0]], kept[node.outputs[0]]
        full_in, full_out = graph.values[node.inputs[0]].channels, graph.values[node.outputs[0]].channels
        if len(keep_out) == full_out and len(keep_in) == full_in:
            continue
        node.pruner.slice(modules[node.name], keep_in, keep_out)
    _update_attrs(target, graph, kept)
    return target


def _update_attrs(model: nn.Module, graph: DependencyGraph, kept: list[np.ndarray]) -> None:
    """Keep ``out_channels`` / ``feature_channels`` of container modules truthful."""
    for name, module in model.named_modules():
        if channel_layout(module) is not None or name not in graph.module_outputs:
            continue
        outs = graph.module_outputs[name]
        oc = getattr(module, "out_channels", None)
        if isinstance(oc, int) and not isinstance(oc, bool) and len(outs) == 1:
            module.out_channels = len(kept[outs[0]])
        fc = getattr(module, "feature_channels", None)
        if isinstance(fc, (list, tuple)) and len(fc) == len(outs) and all(isinstance(c, int) for c in fc):
            module.feature_channels = type(fc)(len(kept[v]) for v in outs)


__all__ = ["apply_channel_config", "physically_prune", "pruned_channel_config"]
