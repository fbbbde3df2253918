"""Structured (channel) pruning: Fisher pruning with FLOP regularisation (Theis et al. 2018).

Design (after Torch-Pruning): one module knows channel dependencies
(:mod:`~edgesal.pruning.dependency`), importance criteria are small classes behind one
interface (:mod:`~edgesal.pruning.criteria`), the FLOP cost model
(:mod:`~edgesal.pruning.cost`) and the selection rule (:mod:`~edgesal.pruning.selection`)
are separate from scoring, and physical slicing (:mod:`~edgesal.pruning.rebuild`) is
separate from both. :func:`prune_model` drives the loop; see ``docs/pruning.md``.
"""

from edgesal.pruning.cost import FlopCostModel
from edgesal.pruning.criteria import CRITERIA, Criterion, SignalBatch, make_criterion
from edgesal.pruning.dependency import ChannelGroup, DependencyGraph, trace_dependencies
from edgesal.pruning.masks import ChannelMasks, per_sample_mask_grads
from edgesal.pruning.prune import PruneConfig, PruneResult, prune_model
from edgesal.pruning.rebuild import apply_channel_config, physically_prune, pruned_channel_config
from edgesal.pruning.selection import Choice, parse_flop_target, select_group

__all__ = [
    "CRITERIA", "ChannelGroup", "ChannelMasks", "Choice", "Criterion", "DependencyGraph", "FlopCostModel",
    "PruneConfig", "PruneResult", "SignalBatch", "apply_channel_config", "make_criterion", "parse_flop_target",
    "per_sample_mask_grads", "physically_prune", "prune_model", "pruned_channel_config", "select_group",
    "trace_dependencies",
]
