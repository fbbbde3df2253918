"""Structured (channel) pruning: Fisher pruning with FLOP regularisation (Theis et al. 2018).

Design (after Torch-Pruning): one object per layer type knows its channel rule, slicing and
FLOPs (:mod:`~edgesal.pruning.layers`, :func:`register_layer`); tracing
(:mod:`~edgesal.pruning.tracing`) is separate from grouping channels
(:mod:`~edgesal.pruning.dependency`); importance criteria are small classes behind one
interface (:mod:`~edgesal.pruning.criteria`); the FLOP cost model
(:mod:`~edgesal.pruning.cost`) and the selection rule (:mod:`~edgesal.pruning.selection`)
are separate from scoring; physical slicing (:mod:`~edgesal.pruning.rebuild`) is separate
from all of them. A :class:`~edgesal.pruning.pruner.Pruner` composes them (``step()``),
:func:`prune_model` drives it; see ``docs/pruning.md``.
"""

from edgesal.models.channel_config import apply_channel_config, pruned_channel_config
from edgesal.pruning.cost import FlopCostModel
from edgesal.pruning.criteria import CRITERIA, Criterion, SignalBatch, make_criterion
from edgesal.pruning.dependency import ChannelGroup, DependencyGraph, trace_dependencies
from edgesal.pruning.layers import ChannelRule, LayerPruner, register_layer
from edgesal.pruning.masks import ChannelMasks, per_sample_mask_grads
from edgesal.pruning.prune import PruneConfig, PruneResult, prune_model
from edgesal.pruning.pruner import Pruner
from edgesal.pruning.rebuild import physically_prune
from edgesal.pruning.selection import Choice, parse_flop_target, select_group

__all__ = [
    "CRITERIA", "ChannelGroup", "ChannelMasks", "ChannelRule", "Choice", "Criterion", "DependencyGraph",
    "FlopCostModel", "LayerPruner", "PruneConfig", "PruneResult", "Pruner", "SignalBatch", "apply_channel_config",
    "make_criterion", "parse_flop_target", "per_sample_mask_grads", "physically_prune", "prune_model",
    "pruned_channel_config", "register_layer", "select_group", "trace_dependencies",
]
