"""Channel dependency graph: which feature maps can be pruned, and what goes with them.

The one place in edgesal that knows channel dependencies (Torch-Pruning's "DepGraph" idea).
:func:`trace_dependencies` runs the model once on a concrete input (batch 1, eval mode, no
grad) and records every operation that touches a tensor:

* *known leaf modules* (``Conv``, ``Linear``, ``BatchNorm``, ``PReLU``, element-wise
  activations, ``PixelShuffle``/``Unshuffle``, padding, ``Identity``, ``Dropout``,
  ``Upsample``, pooling, ``Flatten``) as one node each, through module hooks;
* every other torch function called outside such a module (``x + y``, ``torch.cat``,
  ``F.interpolate``, ``F.pad``, ``reshape``, ``log_softmax`` …), through a
  :class:`~torch.overrides.TorchFunctionMode`. Custom modules (``ConcatDecoder``,
  ``SeparableGaussianBlur``, ``ReadoutHead`` …) are transparent: their functional calls are
  recorded, so Python control flow depending on shapes is no problem.

Every recorded tensor is a :class:`Value` whose channel dimension (dim 1) has one *element*
per channel. A union-find over elements joins the channels that must be removed together:

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

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from edgesal.errors import EdgesalError

# --- module classification -------------------------------------------------------------------

_ELEMENTWISE_MODULES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.Sigmoid, nn.Tanh, nn.Hardswish,
    nn.Hardsigmoid, nn.Hardtanh, nn.SiLU, nn.Mish, nn.GELU, nn.Softplus, nn.Identity, nn.Dropout,
    nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.Upsample,
    nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
    nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d,
)
_PAD_MODULES: tuple[type[nn.Module], ...] = tuple(
    getattr(nn, f"{kind}Pad{d}d")
    for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
    for d in (1, 2, 3)
    if hasattr(nn, f"{kind}Pad{d}d")
)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
KNOWN_LEAF_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.conv._ConvNd, nn.Linear, *_BATCHNORMS, nn.PReLU, nn.PixelShuffle, nn.PixelUnshuffle,
    nn.Flatten, *_ELEMENTWISE_MODULES, *_PAD_MODULES,
    nn.Softmax, nn.LogSoftmax, nn.Softmax2d, nn.ChannelShuffle,  # recorded, then blocked
)

# --- function classification (by __name__ of the intercepted callable) ------------------------

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
    """One recorded operation.

    ``op`` is one of ``input``, ``output``, ``const``, ``conv``, ``dwconv``, ``linear``, ``bn``,
    ``prelu``, ``pass`` (channel-wise, no parameters), ``elementwise``, ``cat``,
    ``pixel_shuffle``, ``pixel_unshuffle``, ``opaque`` (blocks its channels).
    """

    index: int
    op: str
    name: str
    module: nn.Module | None = None
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)


@dataclass
class FlopUnit:
    """One call of a childless module (what ``count_flops`` hooks), for the FLOP cost model."""

    name: str
    module: nn.Module
    args_spec: object  # structure of the call's positional args (``flatten_args``)
    arg_leaves: list  # per leaf: value index (tensor), or the non-tensor leaf itself
    tensor_leaf: list[bool]  # which leaves are tensors (value indices)
    output: int | None  # value index of the first output tensor


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


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        parent = self.parent
        root = a
        while parent[root] != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def _is_known_leaf(module: nn.Module) -> bool:
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return True  # recorded as opaque
    return isinstance(module, KNOWN_LEAF_TYPES) and next(module.children(), None) is None


def flatten_args(obj) -> tuple[list, object]:
    """Leaves of nested tuples/lists/dicts and a structure spec for :func:`unflatten_args`."""
    if isinstance(obj, (tuple, list)):
        leaves, specs = [], []
        for item in obj:
            sub, spec = flatten_args(item)
            leaves += sub
            specs.append((len(sub), spec))
        return leaves, (type(obj), specs)
    if isinstance(obj, dict):
        leaves, specs = [], []
        for key, item in obj.items():
            sub, spec = flatten_args(item)
            leaves += sub
            specs.append((key, len(sub), spec))
        return leaves, (dict, specs)
    return [obj], None


def unflatten_args(leaves: list, spec) -> object:
    if spec is None:
        return leaves[0]
    kind, specs = spec
    out, i = [], 0
    if kind is dict:
        d = {}
        for key, n, sub in specs:
            d[key] = unflatten_args(leaves[i:i + n], sub)
            i += n
        return d
    for n, sub in specs:
        out.append(unflatten_args(leaves[i:i + n], sub))
        i += n
    return kind(out) if kind in (tuple, list) else out


def _tensor_leaves(obj) -> list[Tensor]:
    return [x for x in flatten_args(obj)[0] if isinstance(x, Tensor)]


class _Recorder(TorchFunctionMode):
    """Records function-level tensor operations outside known leaf modules."""

    def __init__(self, tracer: "_Tracer"):
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tr = self.tracer
        if tr.depth > 0 or tr.paused:
            return func(*args, **kwargs)
        tr.paused = True
        try:
            inputs = _tensor_leaves((args, kwargs))
            in_values = [tr.value_of(t) for t in inputs]
        finally:
            tr.paused = False
        result = func(*args, **kwargs)
        outputs = _tensor_leaves(result)
        name = getattr(func, "__name__", str(func))
        if not outputs:
            if (name.endswith("_") and not name.endswith("__")) or name == "__setitem__":  # in-place write: block
                tr.nodes.append(Node(len(tr.nodes), "opaque", name, inputs=in_values))
            return result
        if name == "__get__" and len(inputs) == 1 and len(outputs) == 1 and outputs[0].shape == inputs[0].shape:
            tr.alias(outputs[0], in_values[0])  # e.g. ``x.data``: same channels
            return result
        tr.paused = True
        try:
            tr.add_function_node(name, args, kwargs, inputs, in_values, outputs)
        finally:
            tr.paused = False
        return result


class _Tracer:
    def __init__(self, model: nn.Module):
        self.model = model
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
            self.nodes.append(Node(len(self.nodes), "const", "const", outputs=[idx]))
        return idx

    def add_node(self, op: str, name: str, module, inputs: list[int], outputs: list[Tensor], **attrs) -> Node:
        node = Node(len(self.nodes), op, name, module, list(inputs), [], dict(attrs))
        self.nodes.append(node)
        node.outputs = [self.new_value(t) for t in outputs]
        return node

    # module hooks
    def pre_hook(self, module: nn.Module, args) -> None:
        if self.paused:
            return
        name = self.module_names.get(module, "?")
        self.module_calls[name] = self.module_calls.get(name, 0) + 1
        record_node = self.depth == 0 and _is_known_leaf(module)
        leaves, spec = flatten_args(args)
        in_tensors = [x for x in leaves if isinstance(x, Tensor)]
        self.paused = True
        try:
            in_values = [self.value_of(t) for t in in_tensors]
            arg_leaves = [self._by_id[id(x)] if isinstance(x, Tensor) else x for x in leaves]
            tensor_leaf = [isinstance(x, Tensor) for x in leaves]
        finally:
            self.paused = False
        self._pending.append((module, name, record_node, in_values, spec, arg_leaves, tensor_leaf))
        if record_node:
            self.depth += 1

    def post_hook(self, module: nn.Module, args, output) -> None:
        if self.paused:
            return
        module_, name, record_node, in_values, spec, arg_leaves, tensor_leaf = self._pending.pop()
        assert module_ is module
        outs = _tensor_leaves(output)
        self.paused = True
        try:
            if record_node:
                self.depth -= 1
                op, attrs = _classify_module(module, [self.values[v].shape for v in in_values], outs)
                self.add_node(op, name, module, in_values, outs, **attrs)
            out_values = [self.value_of(t) for t in outs]
            self.module_outputs.setdefault(name, out_values)
            if next(module.children(), None) is None:
                self.units.append(FlopUnit(name, module, spec, arg_leaves, tensor_leaf,
                                           out_values[0] if out_values else None))
        finally:
            self.paused = False

    # functions
    def add_function_node(self, name: str, args, kwargs, inputs: list[Tensor], in_values: list[int],
                          outputs: list[Tensor]) -> None:
        op, attrs = _classify_function(name, args, kwargs, inputs, outputs)
        self.add_node(op, name, None, in_values, outputs, **attrs)


def _norm_dim(dim: int, ndim: int) -> int:
    return dim + ndim if dim < 0 else dim


def _classify_module(module: nn.Module, in_shapes: list[tuple], outs: list[Tensor]) -> tuple[str, dict]:
    if len(in_shapes) != 1 or len(outs) != 1:
        return "opaque", {}
    in_shape, out_shape = in_shapes[0], tuple(outs[0].shape)
    if len(in_shape) < 2 or len(out_shape) < 2:
        return "opaque", {}
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        return "opaque", {}
    if isinstance(module, nn.modules.conv._ConvNd):
        if module.groups == 1:
            return "conv", {}
        if module.groups == module.in_channels == module.out_channels:
            return "dwconv", {}
        return "opaque", {}
    if isinstance(module, nn.Linear):
        return ("linear", {}) if len(in_shape) == 2 else ("opaque", {})
    if isinstance(module, _BATCHNORMS):
        return "bn", {}
    if isinstance(module, nn.PReLU):
        return ("prelu", {}) if module.num_parameters > 1 else ("pass", {})
    if isinstance(module, nn.PixelShuffle):
        return "pixel_shuffle", {"r": module.upscale_factor}
    if isinstance(module, nn.PixelUnshuffle):
        return "pixel_unshuffle", {"r": module.downscale_factor}
    if isinstance(module, nn.Flatten):
        ok = module.start_dim == 1 and all(d == 1 for d in in_shape[2:]) and len(out_shape) == 2
        return ("pass", {}) if ok else ("opaque", {})
    if isinstance(module, _ELEMENTWISE_MODULES + _PAD_MODULES):
        return ("pass", {}) if in_shape[1] == out_shape[1] else ("opaque", {})
    return "opaque", {}


def _classify_function(name: str, args, kwargs, inputs: list[Tensor], outputs: list[Tensor]) -> tuple[str, dict]:
    if len(outputs) != 1:
        return "opaque", {}
    out = outputs[0]
    if out.dim() < 2 or not out.is_floating_point():
        return "opaque", {}
    first = args[0] if args else None
    if name in _CAT_FUNCS:
        seq = args[0] if args else kwargs.get("tensors")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if not isinstance(seq, (list, tuple)) or not all(isinstance(t, Tensor) for t in seq):
            return "opaque", {}
        dim = _norm_dim(int(dim), out.dim())
        if dim == 0:
            return "opaque", {}
        return "cat", {"dim": dim}
    if name in ("pixel_shuffle", "pixel_unshuffle"):
        r = args[1] if len(args) > 1 else kwargs.get("upscale_factor", kwargs.get("downscale_factor"))
        return name, {"r": int(r)}
    if not isinstance(first, Tensor) or first.dim() < 2:
        return "opaque", {}
    if name in _UNARY_FUNCS:
        if len(inputs) != 1 and name not in ("interpolate", "upsample"):
            return "opaque", {}
        return ("pass", {}) if first.shape[:2] == out.shape[:2] else ("opaque", {})
    if name == "pad":
        pad = args[1] if len(args) > 1 else kwargs.get("pad")
        ok = pad is not None and len(pad) <= 2 * (first.dim() - 2) and first.shape[:2] == out.shape[:2]
        return ("pass", {}) if ok else ("opaque", {})
    if name in _ELEMENTWISE_FUNCS:
        return "elementwise", {}
    if name in _REDUCE_FUNCS:
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        if dims is None:
            return "opaque", {}
        dims = [dims] if isinstance(dims, int) else list(dims)
        dims = [_norm_dim(int(d), first.dim()) for d in dims]
        ok = all(d >= 2 for d in dims) and out.shape[:2] == first.shape[:2]
        return ("pass", {}) if ok else ("opaque", {})
    if name == "flatten":
        start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
        ok = start == 1 and all(d == 1 for d in first.shape[2:]) and out.dim() == 2
        return ("pass", {}) if ok else ("opaque", {})
    return "opaque", {}


class DependencyGraph:
    """The traced graph, its prunable channel groups, and per-value group maps.

    Attributes: ``values``, ``nodes``, ``units`` (FLOP units), ``groups``;
    ``value_groups[v]``: int array (channels of value ``v``) with the group index of each
    channel or -1 (never pruned); ``input_shape``; ``module_outputs`` (module name → value
    indices of its first call's output tensors).
    """

    def __init__(self, model: nn.Module, input_shape: tuple[int, ...], values: list[Value], nodes: list[Node],
                 units: list[FlopUnit], module_calls: dict[str, int], module_outputs: dict[str, list[int]]):
        self.model = model
        self.input_shape = tuple(input_shape)
        self.values, self.nodes, self.units = values, nodes, units
        self.module_calls, self.module_outputs = module_calls, module_outputs
        self.module_names = {m: n for n, m in model.named_modules()}
        self._build_groups()

    # union-find over channels
    def _build_groups(self) -> None:
        values, nodes = self.values, self.nodes
        n_el = sum(v.channels for v in values)
        uf = _UnionFind(n_el)
        blocked = np.zeros(n_el, dtype=bool)
        consumer = np.zeros(n_el, dtype=bool)

        def el(v: int, c: int) -> int:
            return values[v].offset + c

        def block_value(v: int) -> None:
            val = values[v]
            blocked[val.offset:val.offset + val.channels] = True

        def union_all(a: int, b: int) -> None:
            va, vb = values[a], values[b]
            if va.channels != vb.channels:
                block_value(a)
                block_value(b)
                return
            for c in range(va.channels):
                uf.union(va.offset + c, vb.offset + c)

        # modules with channel-shaped parameters must be called exactly once
        multi = {n for n, k in self.module_calls.items() if k > 1}
        for node in nodes:
            op = node.op
            if node.module is not None and node.name in multi and op != "pass":
                op = node.op = "opaque"
            if op in ("input", "output", "const", "opaque"):
                for v in node.inputs + node.outputs:
                    block_value(v)
            elif op in ("conv", "linear"):
                for v in node.inputs:
                    val = values[v]
                    consumer[val.offset:val.offset + val.channels] = True
            elif op in ("dwconv", "bn", "prelu", "pass"):
                union_all(node.inputs[0], node.outputs[0])
            elif op == "elementwise":
                out = node.outputs[0]
                for v in node.inputs:
                    if values[v].channels == values[out].channels and len(values[v].shape) == len(values[out].shape):
                        union_all(v, out)
                    elif values[v].channels:
                        block_value(v)
            elif op == "cat":
                out = node.outputs[0]
                if node.attrs["dim"] == 1:
                    off = 0
                    for v in node.inputs:
                        for c in range(values[v].channels):
                            uf.union(el(v, c), el(out, off + c))
                        off += values[v].channels
                    if off != values[out].channels:
                        for v in node.inputs + [out]:
                            block_value(v)
                else:
                    for v in node.inputs:
                        union_all(v, out)
            elif op in ("pixel_shuffle", "pixel_unshuffle"):
                r2 = node.attrs["r"] ** 2
                src, dst = node.inputs[0], node.outputs[0]
                coarse, fine = (dst, src) if op == "pixel_shuffle" else (src, dst)
                if values[fine].channels != values[coarse].channels * r2:
                    block_value(src)
                    block_value(dst)
                    continue
                for c in range(values[coarse].channels):
                    for j in range(r2):
                        uf.union(el(coarse, c), el(fine, c * r2 + j))
            else:  # pragma: no cover - classification is exhaustive
                raise AssertionError(op)

        roots = np.fromiter((uf.find(e) for e in range(n_el)), dtype=np.int64, count=n_el)
        bad_roots = set(roots[blocked].tolist())
        good_roots = set(roots[consumer].tolist()) - bad_roots
        # group order: first appearance (value order, then channel) — deterministic
        root_to_group: dict[int, int] = {}
        for e in range(n_el):
            r = int(roots[e])
            if r in good_roots and r not in root_to_group:
                root_to_group[r] = len(root_to_group)
        self.value_groups: list[np.ndarray] = []
        elements: list[dict[int, list[int]]] = [dict() for _ in root_to_group]
        for val in values:
            g = np.full(val.channels, -1, dtype=np.int64)
            for c in range(val.channels):
                k = root_to_group.get(int(roots[val.offset + c]))
                if k is not None:
                    g[c] = k
                    elements[k].setdefault(val.index, []).append(c)
            self.value_groups.append(g)
        sources: list[list] = [[] for _ in root_to_group]
        consumers: list[list] = [[] for _ in root_to_group]
        for node in nodes:
            if node.op not in ("conv", "linear"):
                continue
            for role, vals in (("src", node.outputs), ("dst", node.inputs)):
                groups_here = self.value_groups[vals[0]]
                per: dict[int, list[int]] = {}
                for c, k in enumerate(groups_here.tolist()):
                    if k >= 0:
                        per.setdefault(k, []).append(c)
                for k, chans in per.items():
                    (sources if role == "src" else consumers)[k].append((node.name, chans))
        self.groups: list[ChannelGroup] = []
        for k in range(len(root_to_group)):
            if not sources[k]:  # only possible with exotic graphs; never prune those
                raise EdgesalError(f"channel group {k} has consumers but no producer")
            src_name, src_ch = sources[k][0]
            label = f"{src_name}[{_fmt_channels(src_ch)}]"
            if len(sources[k]) > 1:
                label += f"+{len(sources[k]) - 1}"
            layer = "+".join(sorted({n for n, _ in sources[k]}))
            self.groups.append(ChannelGroup(k, label, elements[k], sources[k], consumers[k], layer))

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
            if node.op in ("conv", "linear"):
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


def _fmt_channels(ch: list[int]) -> str:
    if len(ch) == 1:
        return str(ch[0])
    if ch == list(range(ch[0], ch[-1] + 1)):
        return f"{ch[0]}..{ch[-1]}"
    return ",".join(map(str, ch))


def trace_dependencies(model: nn.Module, input_shape: tuple[int, ...] | None = None,
                       example_input: Tensor | None = None) -> DependencyGraph:
    """Trace ``model`` once (eval mode, no grad) and build its :class:`DependencyGraph`.

    ``input_shape`` (batch 1 recommended) or ``example_input``; the model's training flag is
    restored afterwards.
    """
    if example_input is None:
        if input_shape is None:
            raise ValueError("give input_shape or example_input")
        param = next(model.parameters(), None)
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        device = param.device if param is not None else torch.device("cpu")
        example_input = torch.zeros(input_shape, dtype=dtype, device=device)
    tracer = _Tracer(model)
    handles = []
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(tracer.pre_hook))
        handles.append(m.register_forward_hook(tracer.post_hook))
    was_training = model.training
    x = example_input
    tracer.nodes.append(Node(0, "input", "input"))
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
    tracer.nodes.append(Node(len(tracer.nodes), "output", "output", inputs=out_values))
    return DependencyGraph(model, tuple(x.shape), tracer.values, tracer.nodes, tracer.units,
                           tracer.module_calls, tracer.module_outputs)
