"""Physical removal of pruned channel groups, and the pruned-architecture contract.

:func:`physically_prune` turns a masked model into a smaller dense one by slicing, for the
channels of every removed group: convolution weights (output channels of producers, input
channels of consumers; depthwise convolutions keep ``groups = in = out``) and biases,
BatchNorm ``weight``/``bias``/``running_mean``/``running_var``, per-channel PReLU weights and
Linear layers. Residual groups, concatenation offsets and pixel-shuffle groups are handled
by the dependency graph (all their channels are listed per tensor). Informational attributes
``out_channels`` (decoders) and ``feature_channels`` (backbones) are updated too.

Checkpoint contract (``meta["pruned_channels"]``, written by :func:`pruned_channel_config`,
read by :func:`apply_channel_config`, which :func:`edgesal.models.load_checkpoint` calls):

.. code-block:: json

    {"format": "edgesal-pruned-channels/1",
     "modules": {"backbone.blocks.1.expand.conv": {"type": "Conv2d", "in_channels": 16,
                                                  "out_channels": 71, "groups": 1},
                 "backbone.blocks.1.expand.bn": {"type": "BatchNorm2d", "num_features": 71},
                 "head.readout.1": {"type": "PReLU", "num_parameters": 20}, ...},
     "attrs": {"decoder": {"out_channels": 40}, "backbone": {"feature_channels": [24, 30, 90, 300]}}}

Every Conv/BatchNorm/PReLU/Linear module of the model is listed with its channel counts
(shapes only, no indices); ``apply_channel_config`` reshapes those modules of a freshly
built full-size model (parameters are re-allocated uninitialised), after which the saved
pruned ``state_dict`` loads.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from edgesal.errors import EdgesalError
from edgesal.pruning.dependency import DependencyGraph

CONFIG_FORMAT = "edgesal-pruned-channels/1"
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _is_conv(m: nn.Module) -> bool:
    return isinstance(m, nn.modules.conv._ConvNd) and not isinstance(m, nn.modules.conv._ConvTransposeNd)


def _set_param(module: nn.Module, name: str, value: torch.Tensor) -> None:
    old = getattr(module, name)
    if isinstance(old, nn.Parameter):
        setattr(module, name, nn.Parameter(value.detach().clone(), requires_grad=old.requires_grad))
    else:
        module._buffers[name] = value.detach().clone()


def _idx(keep: np.ndarray, device) -> torch.Tensor:
    return torch.as_tensor(keep, dtype=torch.long, device=device)


def _slice_module(module: nn.Module, op: str, keep_in: np.ndarray | None, keep_out: np.ndarray) -> None:
    """Slice one module in place (``keep_in`` for consumers, ``keep_out`` for producers/pass-through)."""
    if op in ("conv", "linear"):
        w = module.weight
        w = w.index_select(0, _idx(keep_out, w.device)).index_select(1, _idx(keep_in, w.device))
        _set_param(module, "weight", w)
        if module.bias is not None:
            _set_param(module, "bias", module.bias.index_select(0, _idx(keep_out, w.device)))
        if op == "conv":
            module.in_channels, module.out_channels = len(keep_in), len(keep_out)
        else:
            module.in_features, module.out_features = len(keep_in), len(keep_out)
    elif op == "dwconv":
        w = module.weight
        _set_param(module, "weight", w.index_select(0, _idx(keep_out, w.device)))
        if module.bias is not None:
            _set_param(module, "bias", module.bias.index_select(0, _idx(keep_out, w.device)))
        module.in_channels = module.out_channels = module.groups = len(keep_out)
    elif op == "bn":
        for name in ("weight", "bias", "running_mean", "running_var"):
            t = getattr(module, name, None)
            if t is not None:
                _set_param(module, name, t.index_select(0, _idx(keep_out, t.device)))
        module.num_features = len(keep_out)
    elif op == "prelu":
        _set_param(module, "weight", module.weight.index_select(0, _idx(keep_out, module.weight.device)))
        module.num_parameters = len(keep_out)


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
        if node.module is None or node.op not in ("conv", "dwconv", "linear", "bn", "prelu"):
            continue
        keep_out = kept[node.outputs[0]]
        keep_in = kept[node.inputs[0]]
        full_out = graph.values[node.outputs[0]].channels
        full_in = graph.values[node.inputs[0]].channels
        if len(keep_out) == full_out and len(keep_in) == full_in:
            continue
        _slice_module(modules[node.name], node.op, keep_in, keep_out)
    _update_attrs(target, graph, kept)
    return target


def _update_attrs(model: nn.Module, graph: DependencyGraph, kept: list[np.ndarray]) -> None:
    """Keep ``out_channels`` / ``feature_channels`` of container modules truthful."""
    for name, module in model.named_modules():
        if _is_conv(module) or isinstance(module, nn.Linear) or name not in graph.module_outputs:
            continue
        outs = graph.module_outputs[name]
        oc = getattr(module, "out_channels", None)
        if isinstance(oc, int) and not isinstance(oc, bool) and len(outs) == 1:
            module.out_channels = int(len(kept[outs[0]]))
        fc = getattr(module, "feature_channels", None)
        if isinstance(fc, (list, tuple)) and len(fc) == len(outs) and all(isinstance(c, int) for c in fc):
            module.feature_channels = type(fc)(int(len(kept[v])) for v in outs)


def pruned_channel_config(model: nn.Module) -> dict:
    """JSON-able channel counts of every Conv/BatchNorm/PReLU/Linear module (see module doc)."""
    modules: dict[str, dict] = {}
    attrs: dict[str, dict] = {}
    for name, m in model.named_modules():
        if _is_conv(m):
            modules[name] = {"type": type(m).__name__, "in_channels": m.in_channels,
                             "out_channels": m.out_channels, "groups": m.groups}
        elif isinstance(m, _BATCHNORMS):
            modules[name] = {"type": type(m).__name__, "num_features": m.num_features}
        elif isinstance(m, nn.PReLU):
            modules[name] = {"type": "PReLU", "num_parameters": m.num_parameters}
        elif isinstance(m, nn.Linear):
            modules[name] = {"type": "Linear", "in_features": m.in_features, "out_features": m.out_features}
        else:
            a = {}
            oc = getattr(m, "out_channels", None)
            if isinstance(oc, int) and not isinstance(oc, bool):
                a["out_channels"] = oc
            fc = getattr(m, "feature_channels", None)
            if isinstance(fc, (list, tuple)) and all(isinstance(c, int) for c in fc):
                a["feature_channels"] = list(fc)
            if a:
                attrs[name] = a
    return {"format": CONFIG_FORMAT, "modules": modules, "attrs": attrs}


def _empty_like(old: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    if tuple(old.shape) == tuple(shape):
        return old.detach().clone()
    return torch.zeros(shape, dtype=old.dtype, device=old.device)


def apply_channel_config(model: nn.Module, config: dict) -> nn.Module:
    """Reshape a freshly built full-size ``model`` in place to the pruned architecture.

    Only shapes change (new parameters are zero-filled): load the pruned ``state_dict``
    afterwards. Raises EdgesalError if the config names modules the model lacks or types
    differ.
    """
    if not isinstance(config, dict) or config.get("format") != CONFIG_FORMAT:
        raise EdgesalError(f"unsupported pruned-channel config (expected format {CONFIG_FORMAT!r})")
    modules = dict(model.named_modules())
    for name, spec in config.get("modules", {}).items():
        m = modules.get(name)
        if m is None or type(m).__name__ != spec.get("type"):
            found = type(m).__name__ if m is not None else "nothing"
            raise EdgesalError(f"pruned-channel config: module {name!r} is a {spec.get('type')} there, "
                               f"{found} in this architecture")
        if _is_conv(m):
            cin, cout, groups = int(spec["in_channels"]), int(spec["out_channels"]), int(spec["groups"])
            if (cin, cout, groups) == (m.in_channels, m.out_channels, m.groups):
                continue
            m.in_channels, m.out_channels, m.groups = cin, cout, groups
            _set_param(m, "weight", _empty_like(m.weight, (cout, cin // groups, *m.kernel_size)))
            if m.bias is not None:
                _set_param(m, "bias", _empty_like(m.bias, (cout,)))
        elif isinstance(m, _BATCHNORMS):
            n = int(spec["num_features"])
            if n == m.num_features:
                continue
            m.num_features = n
            for pname in ("weight", "bias", "running_mean", "running_var"):
                t = getattr(m, pname, None)
                if t is not None:
                    _set_param(m, pname, _empty_like(t, (n,)))
        elif isinstance(m, nn.PReLU):
            n = int(spec["num_parameters"])
            if n != m.num_parameters:
                m.num_parameters = n
                _set_param(m, "weight", _empty_like(m.weight, (n,)))
        elif isinstance(m, nn.Linear):
            fin, fout = int(spec["in_features"]), int(spec["out_features"])
            if (fin, fout) != (m.in_features, m.out_features):
                m.in_features, m.out_features = fin, fout
                _set_param(m, "weight", _empty_like(m.weight, (fout, fin)))
                if m.bias is not None:
                    _set_param(m, "bias", _empty_like(m.bias, (fout,)))
    for name, a in config.get("attrs", {}).items():
        m = modules.get(name)
        if m is None:
            raise EdgesalError(f"pruned-channel config: module {name!r} not in this architecture")
        if "out_channels" in a:
            m.out_channels = int(a["out_channels"])
        if "feature_channels" in a:
            old = getattr(m, "feature_channels", None)
            m.feature_channels = (type(old) if isinstance(old, (list, tuple)) else list)(
                int(c) for c in a["feature_channels"])
    return model

