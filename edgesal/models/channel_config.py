"""Channel configs: the channel counts of a (pruned) architecture, and rebuilding it from them.

A checkpoint of a pruned model stores ``meta["pruned_channels"]`` (written by
:func:`pruned_channel_config`); :func:`apply_channel_config` reshapes a freshly built
full-size model to those counts so that the saved ``state_dict`` loads:

.. code-block:: json

    {"format": "edgesal-pruned-channels/1",
     "modules": {"backbone.blocks.1.expand.conv": {"type": "Conv2d", "in_channels": 16,
                                                  "out_channels": 71, "groups": 1},
                 "backbone.blocks.1.expand.bn": {"type": "BatchNorm2d", "num_features": 71},
                 "head.readout.1": {"type": "PReLU", "num_parameters": 20}, ...},
     "attrs": {"decoder": {"out_channels": 40}, "backbone": {"feature_channels": [24, 30, 90, 300]}}}

Which module types have channel-shaped tensors is one table of :class:`ChannelLayout`
objects (Conv, BatchNorm, PReLU, Linear); :func:`register_channel_layout` adds a type (the
pruning package registers the layout of every prunable layer type it is given). Every other
module is listed only with its informational ``out_channels`` / ``feature_channels``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TypeVar

import torch
from torch import nn

from edgesal.errors import EdgesalError

CONFIG_FORMAT = "edgesal-pruned-channels/1"
T = TypeVar("T")


def replace_tensor(module: nn.Module, name: str, value: torch.Tensor) -> None:
    """Replace parameter or buffer ``name`` of ``module`` by a copy of ``value`` (any shape)."""
    old = getattr(module, name)
    if isinstance(old, nn.Parameter):
        setattr(module, name, nn.Parameter(value.detach().clone(), requires_grad=old.requires_grad))
    else:
        module._buffers[name] = value.detach().clone()


def _empty_like(old: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    if tuple(old.shape) == tuple(shape):
        return old.detach().clone()
    return torch.zeros(shape, dtype=old.dtype, device=old.device)


def resize_tensor(module: nn.Module, name: str, shape: tuple[int, ...]) -> None:
    """Give tensor ``name`` (if present) the ``shape``: kept if equal, zero-filled otherwise."""
    t = getattr(module, name, None)
    if t is not None:
        replace_tensor(module, name, _empty_like(t, shape))


class ChannelLayout(ABC):
    """How the channel counts of one module type are recorded and rebuilt."""

    @abstractmethod
    def describe(self, module: nn.Module) -> dict:
        """The config entry of ``module``: ``{"type": …, <count>: int, …}``."""

    @abstractmethod
    def resize(self, module: nn.Module, entry: dict) -> None:
        """Reshape ``module`` in place to the counts of ``entry`` (tensors zero-filled)."""


class ConvLayout(ChannelLayout):
    def describe(self, module: nn.Module) -> dict:
        return {"type": type(module).__name__, "in_channels": module.in_channels,
                "out_channels": module.out_channels, "groups": module.groups}

    def resize(self, module: nn.Module, entry: dict) -> None:
        cin, cout, groups = int(entry["in_channels"]), int(entry["out_channels"]), int(entry["groups"])
        if (cin, cout, groups) == (module.in_channels, module.out_channels, module.groups):
            return
        module.in_channels, module.out_channels, module.groups = cin, cout, groups
        resize_tensor(module, "weight", (cout, cin // groups, *module.kernel_size))
        resize_tensor(module, "bias", (cout,))


BATCHNORM_TENSORS = ("weight", "bias", "running_mean", "running_var")


class BatchNormLayout(ChannelLayout):
    def describe(self, module: nn.Module) -> dict:
        return {"type": type(module).__name__, "num_features": module.num_features}

    def resize(self, module: nn.Module, entry: dict) -> None:
        n = int(entry["num_features"])
        if n == module.num_features:
            return
        module.num_features = n
        for name in BATCHNORM_TENSORS:
            resize_tensor(module, name, (n,))


class PReLULayout(ChannelLayout):
    def describe(self, module: nn.Module) -> dict:
        return {"type": "PReLU", "num_parameters": module.num_parameters}

    def resize(self, module: nn.Module, entry: dict) -> None:
        n = int(entry["num_parameters"])
        if n != module.num_parameters:
            module.num_parameters = n
            resize_tensor(module, "weight", (n,))


class LinearLayout(ChannelLayout):
    def describe(self, module: nn.Module) -> dict:
        return {"type": "Linear", "in_features": module.in_features, "out_features": module.out_features}

    def resize(self, module: nn.Module, entry: dict) -> None:
        fin, fout = int(entry["in_features"]), int(entry["out_features"])
        if (fin, fout) != (module.in_features, module.out_features):
            module.in_features, module.out_features = fin, fout
            resize_tensor(module, "weight", (fout, fin))
            resize_tensor(module, "bias", (fout,))


_LAYOUTS: dict[type[nn.Module], ChannelLayout | None] = {
    nn.modules.conv._ConvNd: ConvLayout(),
    nn.modules.conv._ConvTransposeNd: None,  # never pruned: listed by its attributes only
    **{bn: BatchNormLayout() for bn in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)},
    nn.PReLU: PReLULayout(),
    nn.Linear: LinearLayout(),
}


def register_channel_layout(module_type: type[nn.Module], layout: ChannelLayout | None) -> None:
    """Record (or, with None, hide) the channel layout of ``module_type`` and its subclasses."""
    _LAYOUTS[module_type] = layout


def registered_for(table: dict[type, T], obj: object) -> T | None:
    """The entry of the most derived class of ``obj`` in ``table`` (subclasses inherit), or None."""
    for cls in type(obj).__mro__:
        if cls in table:
            return table[cls]
    return None


def channel_layout(module: nn.Module) -> ChannelLayout | None:
    """The layout of the most derived registered class of ``module``, or None."""
    return registered_for(_LAYOUTS, module)


def informational_attrs(module: nn.Module) -> dict:
    """``out_channels`` (an int) and ``feature_channels`` (a list of ints) of a container module."""
    attrs = {}
    oc = getattr(module, "out_channels", None)
    if isinstance(oc, int) and not isinstance(oc, bool):
        attrs["out_channels"] = oc
    fc = getattr(module, "feature_channels", None)
    if isinstance(fc, (list, tuple)) and all(isinstance(c, int) for c in fc):
        attrs["feature_channels"] = list(fc)
    return attrs


def pruned_channel_config(model: nn.Module) -> dict:
    """JSON-able channel counts of every module with a channel layout (see module doc)."""
    modules: dict[str, dict] = {}
    attrs: dict[str, dict] = {}
    for name, m in model.named_modules():
        layout = channel_layout(m)
        if layout is not None:
            modules[name] = layout.describe(m)
        elif a := informational_attrs(m):
            attrs[name] = a
    return {"format": CONFIG_FORMAT, "modules": modules, "attrs": attrs}


def apply_channel_config(model: nn.Module, config: dict) -> nn.Module:
    """Reshape a freshly built full-size ``model`` in place to the pruned architecture.

    Only shapes change (new parameters are zero-filled): load the pruned ``state_dict``
    afterwards. Raises EdgesalError if the config names modules the model lacks or types
    differ.
    """
    if not isinstance(config, dict) or config.get("format") != CONFIG_FORMAT:
        raise EdgesalError(f"unsupported pruned-channel config (expected format {CONFIG_FORMAT!r})")
    modules = dict(model.named_modules())
    for name, entry in config.get("modules", {}).items():
        m = modules.get(name)
        if m is None or type(m).__name__ != entry.get("type"):
            found = type(m).__name__ if m is not None else "nothing"
            raise EdgesalError(f"pruned-channel config: module {name!r} is a {entry.get('type')} there, "
                               f"{found} in this architecture")
        layout = channel_layout(m)
        if layout is not None:
            layout.resize(m, entry)
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


__all__ = ["CONFIG_FORMAT", "ChannelLayout", "apply_channel_config", "channel_layout", "informational_attrs",
           "pruned_channel_config", "register_channel_layout", "registered_for", "replace_tensor", "resize_tensor"]
