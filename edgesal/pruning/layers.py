"""Pruning rules per layer type: the one place that knows what an operation does to channels.

Like Torch-Pruning's per-layer pruners (``BasePruningFunc`` + ``register_customized_layer``),
every module type the tracer understands has one :class:`LayerPruner`, and a new prunable
layer type is one :func:`register_layer` call. A pruner knows

* its **channel rule** (:meth:`LayerPruner.rule`): which :class:`ChannelRule` a call
  follows — :data:`PRODUCE` (output channels made, input channels read: Conv with
  groups = 1, Linear), :data:`FOLLOW` (channel ``c`` in ≡ channel ``c`` out: depthwise Conv,
  BatchNorm, PReLU, activations, pads, pooling …), :data:`PIXEL_SHUFFLE` /
  :data:`PIXEL_UNSHUFFLE` or :data:`BLOCK` (never pruned);
* how to **slice** it physically (:meth:`LayerPruner.slice`; parameter-free types slice
  nothing);
* its **FLOP cost** with the current channel counts (:meth:`LayerPruner.flops`; default:
  the :mod:`edgesal.models.flops` rule evaluated on shape-only tensors);
* its **channel layout** for pruned checkpoints (``layout``, an
  :class:`~edgesal.models.channel_config.ChannelLayout`; registered with the models package).

Functional operations (``x + y``, ``torch.cat``, ``F.interpolate`` …) are classified by
name in :func:`classify_function` with the same rules plus :data:`ELEMENTWISE` and
:data:`CONCAT`. The coupling itself (what a rule joins in the union-find) is
:meth:`ChannelRule.couple`, applied by :mod:`~edgesal.pruning.dependency`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor, nn

from edgesal.models.channel_config import (
    BATCHNORM_TENSORS,
    BatchNormLayout,
    ChannelLayout,
    ConvLayout,
    LinearLayout,
    PReLULayout,
    register_channel_layout,
    registered_for,
    replace_tensor,
)
from edgesal.models.flops import conv_flops, linear_flops, module_flops

if TYPE_CHECKING:
    from edgesal.pruning.dependency import ChannelSets
    from edgesal.pruning.tracing import Node

Shape = tuple[int, ...]


# --- channel rules ----------------------------------------------------------------------------

class ChannelRule:
    """How one operation couples the channels of its inputs and outputs."""

    name = "rule"

    def couple(self, node: Node, sets: ChannelSets) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class _Block(ChannelRule):
    name = "block"

    def couple(self, node: Node, sets: ChannelSets) -> None:
        for v in node.inputs + node.outputs:
            sets.block(v)


class _Produce(ChannelRule):
    """Conv/Linear: makes its output channels, reads its input channels (no union)."""

    name = "produce"

    def couple(self, node: Node, sets: ChannelSets) -> None:
        for v in node.inputs:
            sets.mark_consumed(v)


class _Follow(ChannelRule):
    name = "follow"

    def couple(self, node: Node, sets: ChannelSets) -> None:
        sets.join(node.inputs[0], node.outputs[0])


class _Elementwise(ChannelRule):
    """``out[c] ≡ in[c]`` for every input of the same channel count; broadcast inputs are blocked."""

    name = "elementwise"

    def couple(self, node: Node, sets: ChannelSets) -> None:
        out = sets.values[node.outputs[0]]
        for v in node.inputs:
            val = sets.values[v]
            if val.channels == out.channels and len(val.shape) == len(out.shape):
                sets.join(v, out.index)
            elif val.channels:
                sets.block(v)


class _Concat(ChannelRule):
    """Along channels: ``out[offset_i + c] ≡ input_i[c]``; along another dim: element-wise."""

    name = "cat"

    def couple(self, node: Node, sets: ChannelSets) -> None:
        out = node.outputs[0]
        if node.attrs["dim"] != 1:
            for v in node.inputs:
                sets.join(v, out)
            return
        off = 0
        for v in node.inputs:
            n = sets.values[v].channels
            sets.join_channels(v, range(n), out, range(off, off + n))
            off += n
        if off != sets.values[out].channels:
            for v in [*node.inputs, out]:
                sets.block(v)


class _Shuffle(ChannelRule):
    """PixelShuffle(r): ``in[c·r² + j] ≡ out[c]`` for ``j < r²`` (unshuffle: the other way)."""

    def __init__(self, name: str, coarse_is_output: bool):
        self.name, self.coarse_is_output = name, coarse_is_output

    def couple(self, node: Node, sets: ChannelSets) -> None:
        r2 = node.attrs["r"] ** 2
        src, dst = node.inputs[0], node.outputs[0]
        coarse, fine = (dst, src) if self.coarse_is_output else (src, dst)
        n = sets.values[coarse].channels
        if sets.values[fine].channels != n * r2:
            sets.block(src)
            sets.block(dst)
            return
        for c in range(n):
            sets.join_channels(coarse, [c] * r2, fine, range(c * r2, (c + 1) * r2))


BLOCK, PRODUCE, FOLLOW = _Block(), _Produce(), _Follow()
ELEMENTWISE, CONCAT = _Elementwise(), _Concat()
PIXEL_SHUFFLE, PIXEL_UNSHUFFLE = _Shuffle("pixel_shuffle", True), _Shuffle("pixel_unshuffle", False)
Classified = tuple[ChannelRule, dict]


# --- per-layer pruners ------------------------------------------------------------------------

def _channels(t: Tensor) -> int:
    return t.shape[1] if t.dim() >= 2 else 0


def _index(keep: np.ndarray, device) -> Tensor:
    return torch.as_tensor(keep, dtype=torch.long, device=device)


def _slice_tensors(module: nn.Module, names: tuple[str, ...], keep: np.ndarray) -> None:
    for name in names:
        t = getattr(module, name, None)
        if t is not None:
            replace_tensor(module, name, t.index_select(0, _index(keep, t.device)))


class LayerPruner:
    """Everything pruning needs to know about one module type (override what differs).

    ``module_types``: the classes handled (subclasses included; the most derived registered
    class wins); ``layout``: how pruned checkpoints record its channel counts (None: no
    channel-shaped tensors).
    """

    module_types: tuple[type[nn.Module], ...] = ()
    layout: ChannelLayout | None = None

    def rule(self, module: nn.Module, in_shape: Shape, out_shape: Shape) -> Classified:
        """(channel rule, attributes) of one call with one input and one output (ndim ≥ 2)."""
        return (FOLLOW, {}) if in_shape[1] == out_shape[1] else (BLOCK, {})

    def slices(self, module: nn.Module) -> bool:
        """Whether ``module`` owns channel-shaped tensors (it is then sliced, and blocked if
        called more than once)."""
        return False

    def slice(self, module: nn.Module, keep_in: np.ndarray, keep_out: np.ndarray) -> None:
        """Keep only input channels ``keep_in`` and output channels ``keep_out``, in place."""

    def flops(self, module: nn.Module, inputs: list[Tensor], out: Tensor, include_bn: bool) -> int:
        """FLOPs of one call; ``inputs``/``out`` are shape-only (``meta``) tensors with the
        current channel counts (all tensor arguments of the call, in order)."""
        return int(module_flops(module, inputs[0] if inputs else None, out, include_bn, inputs) or 0)


class ConvPruner(LayerPruner):
    """groups = 1: producer/consumer; depthwise (groups = in = out): channel-wise; else blocked."""

    module_types = (nn.modules.conv._ConvNd,)
    layout = ConvLayout()

    def rule(self, module, in_shape, out_shape) -> Classified:
        if module.groups == 1:
            return PRODUCE, {}
        if module.groups == module.in_channels == module.out_channels:
            return FOLLOW, {}
        return BLOCK, {}

    def slices(self, module) -> bool:
        return True

    def slice(self, module, keep_in, keep_out) -> None:
        w = module.weight.index_select(0, _index(keep_out, module.weight.device))
        if module.groups == 1:
            w = w.index_select(1, _index(keep_in, w.device))
            module.in_channels, module.out_channels = len(keep_in), len(keep_out)
        else:  # depthwise: groups follow the channels
            module.in_channels = module.out_channels = module.groups = len(keep_out)
        replace_tensor(module, "weight", w)
        _slice_tensors(module, ("bias",), keep_out)

    def flops(self, module, inputs, out, include_bn) -> int:
        if module.groups == 1:
            per_in = _channels(inputs[0]) if inputs else module.in_channels
        elif module.groups == module.in_channels == module.out_channels:  # depthwise: groups follow channels
            per_in = 1
        else:
            per_in = module.in_channels // module.groups
        return conv_flops(math.prod(out.shape), per_in, math.prod(module.kernel_size))


class ConvTransposePruner(LayerPruner):
    module_types = (nn.modules.conv._ConvTransposeNd,)

    def rule(self, module, in_shape, out_shape) -> Classified:
        return BLOCK, {}


class LinearPruner(LayerPruner):
    module_types = (nn.Linear,)
    layout = LinearLayout()

    def rule(self, module, in_shape, out_shape) -> Classified:
        return (PRODUCE, {}) if len(in_shape) == 2 else (BLOCK, {})

    def slices(self, module) -> bool:
        return True

    def slice(self, module, keep_in, keep_out) -> None:
        w = module.weight
        replace_tensor(module, "weight", w.index_select(0, _index(keep_out, w.device)).index_select(
            1, _index(keep_in, w.device)))
        _slice_tensors(module, ("bias",), keep_out)
        module.in_features, module.out_features = len(keep_in), len(keep_out)

    def flops(self, module, inputs, out, include_bn) -> int:
        c_in = _channels(inputs[0]) if inputs else module.in_features
        return linear_flops(math.prod(out.shape), c_in)


class BatchNormPruner(LayerPruner):
    module_types = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    layout = BatchNormLayout()

    def rule(self, module, in_shape, out_shape) -> Classified:
        return FOLLOW, {}

    def slices(self, module) -> bool:
        return True

    def slice(self, module, keep_in, keep_out) -> None:
        _slice_tensors(module, BATCHNORM_TENSORS, keep_out)
        module.num_features = len(keep_out)


class PReLUPruner(LayerPruner):
    module_types = (nn.PReLU,)
    layout = PReLULayout()

    def rule(self, module, in_shape, out_shape) -> Classified:
        return FOLLOW, {}

    def slices(self, module) -> bool:
        return module.num_parameters > 1

    def slice(self, module, keep_in, keep_out) -> None:
        _slice_tensors(module, ("weight",), keep_out)
        module.num_parameters = len(keep_out)


class PixelShufflePruner(LayerPruner):
    module_types = (nn.PixelShuffle,)

    def rule(self, module, in_shape, out_shape) -> Classified:
        return PIXEL_SHUFFLE, {"r": module.upscale_factor}


class PixelUnshufflePruner(LayerPruner):
    module_types = (nn.PixelUnshuffle,)

    def rule(self, module, in_shape, out_shape) -> Classified:
        return PIXEL_UNSHUFFLE, {"r": module.downscale_factor}


class FlattenPruner(LayerPruner):
    """``Flatten(1)`` of (B, C, 1, …, 1) keeps the channels; any other flatten blocks them."""

    module_types = (nn.Flatten,)

    def rule(self, module, in_shape, out_shape) -> Classified:
        ok = module.start_dim == 1 and all(d == 1 for d in in_shape[2:]) and len(out_shape) == 2
        return (FOLLOW, {}) if ok else (BLOCK, {})


class ChannelwisePruner(LayerPruner):
    """Parameter-free ops that keep channel ``c`` as channel ``c`` (activations, pads, pooling …)."""

    module_types = (
        nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.Sigmoid, nn.Tanh, nn.Hardswish,
        nn.Hardsigmoid, nn.Hardtanh, nn.SiLU, nn.Mish, nn.GELU, nn.Softplus, nn.Identity, nn.Dropout,
        nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.Upsample,
        nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
        nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
        nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
        *(getattr(nn, f"{kind}Pad{d}d") for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
          for d in (1, 2, 3) if hasattr(nn, f"{kind}Pad{d}d")),
    )


class BlockingPruner(LayerPruner):
    """Recorded as one node, never pruned (they mix channels)."""

    module_types = (nn.Softmax, nn.LogSoftmax, nn.Softmax2d, nn.ChannelShuffle)

    def rule(self, module, in_shape, out_shape) -> Classified:
        return BLOCK, {}


_PRUNERS: dict[type[nn.Module], LayerPruner] = {}


def register_layer(pruner: LayerPruner) -> LayerPruner:
    """Register ``pruner`` for its ``module_types`` (and their channel layout for checkpoints)."""
    for module_type in pruner.module_types:
        _PRUNERS[module_type] = pruner
        if pruner.layout is not None:
            register_channel_layout(module_type, pruner.layout)
    return pruner


for _pruner in (ConvPruner(), ConvTransposePruner(), LinearPruner(), BatchNormPruner(), PReLUPruner(),
                PixelShufflePruner(), PixelUnshufflePruner(), FlattenPruner(), ChannelwisePruner(),
                BlockingPruner()):
    register_layer(_pruner)


def pruner_for(module: nn.Module) -> LayerPruner | None:
    """The pruner of the most derived registered class of ``module``, or None."""
    return registered_for(_PRUNERS, module)


def is_known_leaf(module: nn.Module) -> bool:
    """Recorded as one node by the tracer: a registered type without children (transposed
    convolutions always)."""
    pruner = pruner_for(module)
    if isinstance(pruner, ConvTransposePruner):
        return True
    return pruner is not None and next(module.children(), None) is None


def classify_module(module: nn.Module, in_shapes: list[Shape], out_shapes: list[Shape]) -> Classified:
    """(rule, attributes) of one call of a known leaf module."""
    if len(in_shapes) != 1 or len(out_shapes) != 1 or len(in_shapes[0]) < 2 or len(out_shapes[0]) < 2:
        return BLOCK, {}
    return pruner_for(module).rule(module, in_shapes[0], out_shapes[0])


# --- functional operations (by ``__name__`` of the intercepted callable) ----------------------

_UNARY_FUNCS = {
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "sigmoid", "sigmoid_", "tanh", "tanh_", "silu",
    "gelu", "hardswish", "hardsigmoid", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "celu",
    "mish", "softplus", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "contiguous",
    "clone", "float", "double", "half", "to", "type", "neg", "__neg__", "abs", "exp", "log", "sqrt",
    "square", "clamp", "clamp_", "clamp_min", "clamp_max", "clip", "pow", "__pow__",
    "interpolate", "upsample", "upsample_bilinear", "upsample_nearest",
    "avg_pool1d", "avg_pool2d", "avg_pool3d", "max_pool1d", "max_pool2d", "max_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
}
_ELEMENTWISE_FUNCS = {
    "add", "add_", "__add__", "__radd__", "__iadd__", "sub", "sub_", "__sub__", "__rsub__", "__isub__",
    "mul", "mul_", "__mul__", "__rmul__", "__imul__", "div", "div_", "__truediv__", "__rtruediv__",
    "__itruediv__", "maximum", "minimum",
}
_REDUCE_FUNCS = {"mean", "sum", "amax", "amin"}
_CAT_FUNCS = {"cat", "concat", "concatenate"}


def _norm_dim(dim: int, ndim: int) -> int:
    return dim + ndim if dim < 0 else dim


def _arg(args: tuple, kwargs: dict, position: int, *names: str, default=None):
    if len(args) > position:
        return args[position]
    for name in names:
        if name in kwargs:
            return kwargs[name]
    return default


def _follow_if(ok: bool) -> Classified:
    return (FOLLOW, {}) if ok else (BLOCK, {})


def _classify_cat(args, kwargs, out: Tensor) -> Classified:
    seq = _arg(args, kwargs, 0, "tensors")
    if not isinstance(seq, (list, tuple)) or not all(isinstance(t, Tensor) for t in seq):
        return BLOCK, {}
    dim = _norm_dim(int(_arg(args, kwargs, 1, "dim", default=0)), out.dim())
    return (BLOCK, {}) if dim == 0 else (CONCAT, {"dim": dim})


def _classify_on_tensor(name: str, args, kwargs, first: Tensor, inputs: list[Tensor], out: Tensor) -> Classified:
    same_channels = first.shape[:2] == out.shape[:2]
    if name in _UNARY_FUNCS:
        return _follow_if((len(inputs) == 1 or name in ("interpolate", "upsample")) and same_channels)
    if name == "pad":
        pad = _arg(args, kwargs, 1, "pad")
        return _follow_if(pad is not None and len(pad) <= 2 * (first.dim() - 2) and same_channels)
    if name in _ELEMENTWISE_FUNCS:
        return ELEMENTWISE, {}
    if name in _REDUCE_FUNCS:
        dims = _arg(args, kwargs, 1, "dim")
        if dims is None:
            return BLOCK, {}
        dims = [_norm_dim(int(d), first.dim()) for d in ([dims] if isinstance(dims, int) else dims)]
        return _follow_if(all(d >= 2 for d in dims) and same_channels)
    if name == "flatten":
        start = _arg(args, kwargs, 1, "start_dim", default=0)
        return _follow_if(start == 1 and all(d == 1 for d in first.shape[2:]) and out.dim() == 2)
    return BLOCK, {}


def classify_function(name: str, args, kwargs, inputs: list[Tensor], outputs: list[Tensor]) -> Classified:
    """(rule, attributes) of one functional call (``torch.cat``, ``x + y``, ``F.pad`` …)."""
    if len(outputs) != 1 or outputs[0].dim() < 2 or not outputs[0].is_floating_point():
        return BLOCK, {}
    out = outputs[0]
    if name in _CAT_FUNCS:
        return _classify_cat(args, kwargs, out)
    if name in ("pixel_shuffle", "pixel_unshuffle"):
        r = _arg(args, kwargs, 1, "upscale_factor", "downscale_factor")
        return (PIXEL_SHUFFLE if name == "pixel_shuffle" else PIXEL_UNSHUFFLE), {"r": int(r)}
    first = args[0] if args else None
    if not isinstance(first, Tensor) or first.dim() < 2:
        return BLOCK, {}
    return _classify_on_tensor(name, args, kwargs, first, inputs, out)


__all__ = ["BLOCK", "CONCAT", "ELEMENTWISE", "FOLLOW", "PIXEL_SHUFFLE", "PIXEL_UNSHUFFLE", "PRODUCE", "ChannelRule",
           "LayerPruner", "classify_function", "classify_module", "is_known_leaf", "pruner_for", "register_layer"]
