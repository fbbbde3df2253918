"""FLOP and parameter counting with the Fisher-pruning paper's cost formula.

Theis et al. (2018, "Faster gaze prediction with dense networks and Fisher pruning") count
a convolution producing an H x W x C_out map from C_in channels with K x K kernels as
``H * W * C_out * (2 * C_in * K^2 + 1)`` FLOPs: one multiply and one add per weight, plus
one add for the bias. ``count_flops`` applies that formula through forward hooks on the
*leaf* modules of a model, with these rules (``numel`` includes the batch dimension, so
use batch size 1 for per-image counts):

=====================================  =====================================================
module                                 FLOPs
=====================================  =====================================================
Conv1d/2d/3d                           ``numel_out * (2 * (C_in / groups) * prod(K) + 1)``
                                       (grouped/depthwise corrected; the ``+1`` is counted
                                       whether or not the conv has a bias, as in the paper)
ConvTranspose1d/2d/3d                  ``P_in * C_out * 2 * (C_in / groups) * prod(K)
                                       + numel_out`` with ``P_in`` = batch x input
                                       positions (each input pixel is scattered through the
                                       kernel) plus one bias add per output element
Linear                                 ``rows * out * (2 * in + 1)``
BatchNorm1d/2d/3d                      0 (folded into the preceding conv at export);
                                       ``2 * numel_out`` with ``include_bn=True``
ReLU, ReLU6, LeakyReLU, PReLU, ELU,    ``numel_out`` (one FLOP per element, also for the
Sigmoid, Tanh, Hardswish, Hardsigmoid, transcendental ones and softmax - a deliberate
SiLU, GELU, Softmax, LogSoftmax        simplification)
AvgPool, AdaptiveAvgPool, MaxPool,     ``numel_in`` (one add / compare per input element)
AdaptiveMaxPool
Upsample, UpsamplingNearest2d,         ``INTERP_FLOPS_PER_OUTPUT[mode] * numel_out``:
UpsamplingBilinear2d                   nearest 0, linear 3, bilinear 7 (4 multiplies +
                                       3 adds), bicubic 31, trilinear 15
PixelShuffle, PixelUnshuffle,          0 (pure data movement / no-ops)
ChannelShuffle, Flatten, Unflatten,
Identity, Dropout*, padding modules
(ZeroPad, ConstantPad, ReflectionPad,
ReplicationPad, CircularPad)
=====================================  =====================================================

Custom leaf modules (e.g. a blur implemented with ``F.conv2d``) can get a rule with
``register_flop_rule(ModuleClass)`` applied to a function ``(module, input, output) ->
int``; registered rules are checked first (most derived class wins) and may override the
built-in ones. ``register_flop_rule(ModuleClass, all_inputs=True)`` passes the list of
*all* input tensors of the call (flattened, e.g. a list of feature maps) instead of the
first one. Rules for edgesal's own custom leaves are registered below:

=====================================  =====================================================
``SeparableGaussianBlur``              two 1-D passes, each counted as a convolution with
                                       ``K = taps``: ``2 * numel_out * (2 * taps + 1)``
``ConcatDecoder``                      bilinear resizing of every level after the first:
                                       ``7 * B * h * w * C_level`` (concatenation is free)
=====================================  =====================================================

Limitations: module hooks do not see functional operations (``x + y`` in residual blocks,
``torch.cat``, ``F.interpolate`` / ``F.relu`` called inside a custom ``forward``), so those
are not counted; use modules (``nn.Upsample``, ``nn.ReLU``) where the count matters. A
leaf module with no rule (e.g. LayerNorm, LSTM) contributes 0 and its type is listed in
``FlopReport.unsupported``. ``torch.utils.flop_counter`` is deliberately not used: it counts
2 FLOPs per MAC without the paper's bias term and ignores activations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

import torch
from torch import Tensor, nn

INTERP_FLOPS_PER_OUTPUT: dict[str, int] = {
    "nearest": 0,
    "nearest-exact": 0,
    "linear": 3,
    "bilinear": 7,
    "bicubic": 31,
    "trilinear": 15,
}
"""FLOPs per output element of an interpolating upsampler, by ``mode``."""

_ACTIVATIONS: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.Sigmoid,
    nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.SiLU, nn.Mish, nn.GELU,
    nn.Softplus, nn.Softmax, nn.LogSoftmax, nn.Softmax2d,
)
_POOLS: tuple[type[nn.Module], ...] = (
    nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
    nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
    nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
)
_ZERO_COST: tuple[type[nn.Module], ...] = (
    nn.PixelShuffle, nn.PixelUnshuffle, nn.ChannelShuffle, nn.Flatten, nn.Unflatten,
    nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
)
_PADDING: tuple[type[nn.Module], ...] = tuple(
    getattr(nn, f"{kind}Pad{d}d")
    for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
    for d in (1, 2, 3)
    if hasattr(nn, f"{kind}Pad{d}d")
)
_ZERO_COST = _ZERO_COST + _PADDING
_BATCHNORMS: tuple[type[nn.Module], ...] = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)

FlopRule = Callable[[nn.Module, Tensor | None, Tensor], int]
"""``(module, first input tensor or None, first output tensor) -> FLOPs of the call``."""

_CUSTOM_RULES: dict[type[nn.Module], FlopRule] = {}
_ALL_INPUT_RULES: set[type[nn.Module]] = set()
_R = TypeVar("_R", bound=Callable)


def register_flop_rule(module_type: type[nn.Module], *, all_inputs: bool = False) -> Callable[[_R], _R]:
    """Decorator registering a FLOP rule for ``module_type`` (and its subclasses).

    >>> @register_flop_rule(MyBlur)
    ... def _blur_flops(module, inp, out):
    ...     return out.numel() * (2 * module.taps + 1)

    With ``all_inputs=True`` the rule gets the list of all input tensors of the call as
    its second argument (instead of the first input tensor).
    """

    def deco(fn: _R) -> _R:
        _CUSTOM_RULES[module_type] = fn
        if all_inputs:
            _ALL_INPUT_RULES.add(module_type)
        else:
            _ALL_INPUT_RULES.discard(module_type)
        return fn

    return deco


def _custom_rule(module: nn.Module) -> tuple[FlopRule, bool] | None:
    for cls in type(module).__mro__:
        if cls in _CUSTOM_RULES:
            return _CUSTOM_RULES[cls], cls in _ALL_INPUT_RULES
    return None


class LayerFlops(NamedTuple):
    """One call of one leaf module."""

    module_name: str
    type: str
    flops: int
    params: int  # parameters owned directly by the module
    output_shape: tuple[int, ...]


@dataclass
class FlopReport:
    """Result of ``count_flops``.

    ``total_flops`` is the sum over ``per_layer`` (a module called twice appears twice);
    ``total_params`` is ``count_params(model)`` (all parameters, each shared tensor once).
    """

    total_flops: int
    total_params: int
    per_layer: list[LayerFlops] = field(default_factory=list)
    input_shape: tuple[int, ...] = ()
    unsupported: list[str] = field(default_factory=list)

    @property
    def gflops(self) -> float:
        """``total_flops / 1e9``."""
        return self.total_flops / 1e9

    @property
    def mparams(self) -> float:
        """``total_params / 1e6``."""
        return self.total_params / 1e6

    def flops_by_type(self) -> dict[str, int]:
        """Total FLOPs per module type, largest first."""
        out: dict[str, int] = {}
        for layer in self.per_layer:
            out[layer.type] = out.get(layer.type, 0) + layer.flops
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_table(self) -> str:
        """A plain-text table of every layer call and the totals."""
        header = ("module", "type", "output shape", "params", "FLOPs")
        rows = [
            (
                layer.module_name or "(root)",
                layer.type,
                "x".join(str(d) for d in layer.output_shape),
                f"{layer.params:,}",
                f"{layer.flops:,}",
            )
            for layer in self.per_layer
        ]
        rows.append(("TOTAL", "", "", f"{self.total_params:,}", f"{self.total_flops:,}"))
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

        def fmt(r: tuple[str, ...]) -> str:
            left = [r[i].ljust(widths[i]) for i in range(3)]
            right = [r[i].rjust(widths[i]) for i in range(3, 5)]
            return "  ".join(left + right).rstrip()

        sep = "  ".join("-" * w for w in widths)
        lines = [fmt(header), sep, *(fmt(r) for r in rows[:-1]), sep, fmt(rows[-1])]
        shape = "x".join(str(d) for d in self.input_shape)
        lines.append(
            f"input {shape}: {self.gflops:.4f} GFLOPs, {self.mparams:.4f} M params"
        )
        if self.unsupported:
            lines.append("not counted (no rule): " + ", ".join(self.unsupported))
        return "\n".join(lines)


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (shared tensors counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _all_tensors(x: object) -> list[Tensor]:
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for item in x for t in _all_tensors(item)]
    return []


def _first_tensor(x: object) -> Tensor | None:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (tuple, list)):
        for item in x:
            t = _first_tensor(item)
            if t is not None:
                return t
    return None


def conv_flops(n_out: int, in_per_group: int, kernel_elements: int) -> int:
    """The paper's convolution cost: ``numel_out * (2 * C_in/groups * prod(K) + 1)``."""
    return n_out * (2 * in_per_group * kernel_elements + 1)


def linear_flops(n_out: int, in_features: int) -> int:
    """A linear layer: ``rows * out * (2 * in + 1)`` (``n_out = rows * out``)."""
    return n_out * (2 * in_features + 1)


def module_flops(
    module: nn.Module, inp: Tensor | None, out: Tensor, include_bn: bool,
    inputs: list[Tensor] | None = None,
) -> int | None:
    """FLOPs of one call, or None if the module type has no rule.

    ``inputs``: all input tensors of the call (for rules registered with ``all_inputs``;
    defaults to ``[inp]``).
    """
    custom = _custom_rule(module)
    if custom is not None:
        rule, wants_all = custom
        if wants_all:
            return int(rule(module, inputs if inputs is not None else ([inp] if inp is not None else []), out))
        return int(rule(module, inp, out))
    n_out = out.numel()
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        assert inp is not None
        k = math.prod(module.kernel_size)
        positions = inp.numel() // module.in_channels
        macs = positions * module.out_channels * (module.in_channels // module.groups) * k
        return 2 * macs + n_out
    if isinstance(module, nn.modules.conv._ConvNd):
        return conv_flops(n_out, module.in_channels // module.groups, math.prod(module.kernel_size))
    if isinstance(module, nn.Linear):
        return linear_flops(n_out, module.in_features)
    if isinstance(module, _BATCHNORMS):
        return 2 * n_out if include_bn else 0
    if isinstance(module, _ACTIVATIONS):
        return n_out
    if isinstance(module, _POOLS):
        assert inp is not None
        return inp.numel()
    if isinstance(module, nn.Upsample):  # includes UpsamplingNearest2d / Bilinear2d
        mode = str(module.mode)
        if mode not in INTERP_FLOPS_PER_OUTPUT:
            return None
        return INTERP_FLOPS_PER_OUTPUT[mode] * n_out
    if isinstance(module, _ZERO_COST):
        return 0
    return None


def count_flops(
    model: nn.Module,
    input_shape: tuple[int, ...] = (1, 3, 224, 224),
    *,
    include_bn: bool = False,
    example_input: Tensor | None = None,
) -> FlopReport:
    """Count FLOPs of one forward pass of ``model`` on a zero tensor of ``input_shape``.

    Runs the model once in eval mode under ``torch.no_grad()`` (the training flag is
    restored afterwards) with the input on the device/dtype of the model's first
    parameter. ``example_input`` replaces the zero tensor (e.g. for models whose control
    flow depends on the data). See the module docstring for the per-module rules.
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    x = example_input if example_input is not None else torch.zeros(
        input_shape, device=device, dtype=dtype
    )

    layers: list[LayerFlops] = []
    unsupported: list[str] = []
    handles = []

    def make_hook(name: str):
        def hook(module: nn.Module, args: tuple, output: object) -> None:
            out = _first_tensor(output)
            inp = _first_tensor(args)
            flops = (module_flops(module, inp, out, include_bn, _all_tensors(args))
                     if out is not None else None)
            tname = type(module).__name__
            if flops is None:
                flops = 0
                if tname not in unsupported:
                    unsupported.append(tname)
            params = sum(p.numel() for p in module.parameters(recurse=False))
            shape = tuple(out.shape) if out is not None else ()
            layers.append(LayerFlops(name, tname, int(flops), int(params), shape))

        return hook

    for name, module in model.named_modules():
        if next(module.children(), None) is None:  # leaf
            handles.append(module.register_forward_hook(make_hook(name)))

    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    return FlopReport(
        total_flops=sum(layer.flops for layer in layers),
        total_params=count_params(model),
        per_layer=layers,
        input_shape=tuple(x.shape),
        unsupported=unsupported,
    )


# --- rules for edgesal's custom leaf modules -------------------------------------------------

from edgesal.models.decoders import ConcatDecoder  # noqa: E402  (no import cycle: plain torch modules)
from edgesal.models.heads import SeparableGaussianBlur  # noqa: E402


@register_flop_rule(SeparableGaussianBlur)
def _separable_blur_flops(module: nn.Module, inp: Tensor | None, out: Tensor) -> int:
    taps = int(module.kx.shape[-1])
    return 2 * out.numel() * (2 * taps + 1)


@register_flop_rule(ConcatDecoder, all_inputs=True)
def _concat_decoder_flops(module: nn.Module, inputs: list[Tensor], out: Tensor) -> int:
    levels = list(module.levels)
    if not inputs or max(levels) >= len(inputs):
        return 0
    first = inputs[levels[0]]
    positions = first.shape[0] * math.prod(first.shape[2:])
    return sum(INTERP_FLOPS_PER_OUTPUT["bilinear"] * positions * inputs[i].shape[1] for i in levels[1:])


__all__ = [
    "INTERP_FLOPS_PER_OUTPUT",
    "FlopReport",
    "FlopRule",
    "LayerFlops",
    "conv_flops",
    "count_flops",
    "count_params",
    "linear_flops",
    "module_flops",
    "register_flop_rule",
]
