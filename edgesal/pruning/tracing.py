"""Tracing: one forward pass that records every operation touching a tensor.

:func:`trace` runs the model once (eval mode, no grad) and records

* every call of a *known leaf module* (a type registered in :mod:`~edgesal.pruning.layers`)
  as one :class:`Node`, through module hooks;
* every other torch function called outside such a module (``x + y``, ``torch.cat``,
  ``F.interpolate``, ``reshape`` …), through a :class:`~torch.overrides.TorchFunctionMode`.
  Custom modules (``ConcatDecoder``, ``ReadoutHead`` …) are transparent: their functional
  calls are recorded, so Python control flow depending on shapes is no problem;
* every call of a childless module as a :class:`FlopUnit` (what ``count_flops`` hooks).

Each node carries the :class:`~edgesal.pruning.layers.ChannelRule` it follows; grouping the
channels is :mod:`~edgesal.pruning.dependency`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from edgesal.pruning.layers import (
    BLOCK,
    ChannelRule,
    LayerPruner,
    classify_function,
    classify_module,
    is_known_leaf,
    pruner_for,
)


@dataclass
class Value:
    """One recorded tensor; its channels (dim 1) are union-find elements ``offset + c``."""

    index: int
    shape: tuple[int, ...]
    offset: int

    @property
    def channels(self) -> int:
        return self.shape[1] if len(self.shape) >= 2 else 0

    @property
    def spatial(self) -> int:
        """Elements per channel per sample (product of the dims after the channel dim)."""
        n = 1
        for d in self.shape[2:]:
            n *= d
        return n


@dataclass
class Node:
    """One recorded operation: its channel ``rule`` (``BLOCK`` for the model's input, output,
    constants and anything not understood) and, for a module whose channel-shaped tensors are
    sliced when pruning, its ``pruner``."""

    index: int
    rule: ChannelRule
    name: str
    module: nn.Module | None = None
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    pruner: LayerPruner | None = None


@dataclass
class FlopUnit:
    """One call of a childless module (what ``count_flops`` hooks), for the FLOP cost model."""

    name: str
    module: nn.Module
    arg_leaves: list  # per leaf of the call's positional args: value index (tensor), or the leaf itself
    tensor_leaf: list[bool]  # which leaves are tensors (value indices)
    output: int | None  # value index of the first output tensor


@dataclass
class TracedGraph:
    """What :func:`trace` records."""

    input_shape: tuple[int, ...]
    values: list[Value]
    nodes: list[Node]
    units: list[FlopUnit]
    module_calls: dict[str, int]  # module name → number of calls
    module_outputs: dict[str, list[int]]  # module name → value indices of its first call's outputs


def flatten_args(obj) -> list:
    """Leaves of nested tuples/lists/dicts, in order."""
    if isinstance(obj, (tuple, list)):
        return [leaf for item in obj for leaf in flatten_args(item)]
    if isinstance(obj, dict):
        return [leaf for item in obj.values() for leaf in flatten_args(item)]
    return [obj]


def _tensor_leaves(obj) -> list[Tensor]:
    return [x for x in flatten_args(obj) if isinstance(x, Tensor)]


def _is_inplace_write(name: str) -> bool:
    return (name.endswith("_") and not name.endswith("__")) or name == "__setitem__"


class _Recorder(TorchFunctionMode):
    """Records function-level tensor operations outside known leaf modules."""

    def __init__(self, tracer: _Tracer):
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tr = self.tracer
        if tr.depth > 0 or tr.paused:
            return func(*args, **kwargs)
        with tr.pause():
            inputs = _tensor_leaves((args, kwargs))
            in_values = [tr.value_of(t) for t in inputs]
        result = func(*args, **kwargs)
        outputs = _tensor_leaves(result)
        name = getattr(func, "__name__", str(func))
        if not outputs:
            if _is_inplace_write(name):  # in-place write: block
                tr.nodes.append(Node(len(tr.nodes), BLOCK, name, inputs=in_values))
            return result
        if name == "__get__" and len(inputs) == 1 and len(outputs) == 1 and outputs[0].shape == inputs[0].shape:
            tr.alias(outputs[0], in_values[0])  # e.g. ``x.data``: same channels
            return result
        with tr.pause():
            rule, attrs = classify_function(name, args, kwargs, inputs, outputs)
            tr.add_node(rule, name, None, in_values, outputs, attrs)
        return result


class _Pause:
    def __init__(self, tracer: _Tracer):
        self.tracer = tracer

    def __enter__(self) -> None:
        self.tracer.paused = True

    def __exit__(self, *exc) -> None:
        self.tracer.paused = False


class _Tracer:
    def __init__(self, model: nn.Module):
        self.values: list[Value] = []
        self.nodes: list[Node] = []
        self.units: list[FlopUnit] = []
        self._by_id: dict[int, int] = {}
        self._keep: list[Tensor] = []  # keeps traced tensors alive so ids stay unique
        self._n_elements = 0
        self.depth = 0
        self.paused = False
        self.module_names = {m: n for n, m in model.named_modules(remove_duplicate=False)}
        self.module_calls: dict[str, int] = {}
        self.module_outputs: dict[str, list[int]] = {}
        self._pending: list[tuple] = []

    def pause(self) -> _Pause:
        return _Pause(self)

    # values
    def new_value(self, t: Tensor) -> int:
        v = Value(len(self.values), tuple(t.shape), self._n_elements)
        self._n_elements += v.channels
        self.values.append(v)
        self._by_id[id(t)] = v.index
        self._keep.append(t)
        return v.index

    def alias(self, t: Tensor, value: int) -> None:
        self._by_id[id(t)] = value
        self._keep.append(t)

    def value_of(self, t: Tensor) -> int:
        """Value of a tensor; unseen tensors (parameters, buffers, constants) become blocked consts."""
        idx = self._by_id.get(id(t))
        if idx is None:
            idx = self.new_value(t)
            self.nodes.append(Node(len(self.nodes), BLOCK, "const", outputs=[idx]))
        return idx

    def add_node(self, rule: ChannelRule, name: str, module: nn.Module | None, inputs: list[int],
                 outputs: list[Tensor], attrs: dict, pruner: LayerPruner | None = None) -> Node:
        node = Node(len(self.nodes), rule, name, module, list(inputs), [], dict(attrs), pruner)
        self.nodes.append(node)
        node.outputs = [self.new_value(t) for t in outputs]
        return node

    # module hooks
    def pre_hook(self, module: nn.Module, args) -> None:
        if self.paused:
            return
        name = self.module_names.get(module, "?")
        self.module_calls[name] = self.module_calls.get(name, 0) + 1
        record_node = self.depth == 0 and is_known_leaf(module)
        leaves = flatten_args(args)
        with self.pause():
            in_values = [self.value_of(x) for x in leaves if isinstance(x, Tensor)]
            arg_leaves = [self._by_id[id(x)] if isinstance(x, Tensor) else x for x in leaves]
        tensor_leaf = [isinstance(x, Tensor) for x in leaves]
        self._pending.append((module, name, record_node, in_values, arg_leaves, tensor_leaf))
        if record_node:
            self.depth += 1

    def post_hook(self, module: nn.Module, args, output) -> None:
        if self.paused:
            return
        module_, name, record_node, in_values, arg_leaves, tensor_leaf = self._pending.pop()
        assert module_ is module
        outs = _tensor_leaves(output)
        with self.pause():
            if record_node:
                self.depth -= 1
                self._add_module_node(module, name, in_values, outs)
            out_values = [self.value_of(t) for t in outs]
            self.module_outputs.setdefault(name, out_values)
            if next(module.children(), None) is None:
                self.units.append(FlopUnit(name, module, arg_leaves, tensor_leaf,
                                           out_values[0] if out_values else None))

    def _add_module_node(self, module: nn.Module, name: str, in_values: list[int], outs: list[Tensor]) -> None:
        in_shapes = [self.values[v].shape for v in in_values]
        rule, attrs = classify_module(module, in_shapes, [tuple(t.shape) for t in outs])
        pruner = pruner_for(module)
        slicer = pruner if rule is not BLOCK and pruner.slices(module) else None
        self.add_node(rule, name, module, in_values, outs, attrs, slicer)


def _example_input(model: nn.Module, input_shape: tuple[int, ...] | None) -> Tensor:
    if input_shape is None:
        raise ValueError("give input_shape or example_input")
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    device = param.device if param is not None else torch.device("cpu")
    return torch.zeros(input_shape, dtype=dtype, device=device)


def trace(model: nn.Module, input_shape: tuple[int, ...] | None = None,
          example_input: Tensor | None = None) -> TracedGraph:
    """Run ``model`` once on ``example_input`` (or zeros of ``input_shape``) and record it.

    Eval mode and no grad while tracing; the model's training flag is restored afterwards.
    """
    x = example_input if example_input is not None else _example_input(model, input_shape)
    tracer = _Tracer(model)
    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(tracer.pre_hook))
        handles.append(m.register_forward_hook(tracer.post_hook))
    was_training = model.training
    tracer.nodes.append(Node(0, BLOCK, "input"))
    tracer.nodes[0].outputs = [tracer.new_value(x)]
    try:
        model.eval()
        with torch.no_grad(), _Recorder(tracer):
            out = model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    out_values = [tracer.value_of(t) for t in _tensor_leaves(out)]
    tracer.nodes.append(Node(len(tracer.nodes), BLOCK, "output", inputs=out_values))
    return TracedGraph(tuple(x.shape), tracer.values, tracer.nodes, tracer.units, tracer.module_calls,
                       tracer.module_outputs)


__all__ = ["FlopUnit", "Node", "TracedGraph", "Value", "flatten_args", "trace"]
