"""Which part of a ``SaliencyNet`` stays float in int8 (and fp16) artefacts.

The whole ``head`` module is kept float: for the readout head its 1×1 readout convs, the
bilinear upsample, the Gaussian blur, + log centre bias and the log-softmax; for the
sigmoid head its 3×3 map conv and the bilinear upsample (the sigmoid itself is applied by
the predictor). Only ``backbone`` and ``decoder`` are quantised. Keeping the last learned
conv float too stops converters from moving the int8 boundary past the upsample (LiteRT
does that otherwise) and costs a few percent of the MACs.

Each converter finds the float part in its own graph: torch modules (PT2E, via
``nn_module_stack``), ONNX nodes (the exporter's ``pkg.torch.onnx.name_scopes``), and
OpenVINO ops (built from the ONNX graph, same node names).

Mixed-precision fallback: when an int8 artefact fails the parity gate, the export pipeline
converts it again with the first modules of the backbone kept float as well (``stem``, then
``stem`` + ``blocks.0``, …; :func:`leading_modules`), the layers where int8 rounding reaches
everything after it. :func:`keeping_float` adds them for one conversion; the artefact's
metadata lists every float module.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from torch import nn

FLOAT_MODULES = ("head",)
NAME_SCOPES_KEY = "pkg.torch.onnx.name_scopes"
_EXTRA_FLOAT: ContextVar[tuple[str, ...]] = ContextVar("extra_float_modules", default=())


def float_modules() -> tuple[str, ...]:
    """The module paths kept float now: the head, plus any fallback modules."""
    return FLOAT_MODULES + _EXTRA_FLOAT.get()


@contextlib.contextmanager
def keeping_float(modules: tuple[str, ...] | list[str]) -> Iterator[None]:
    """Keep ``modules`` float too (a mixed-precision retry) inside the block."""
    token = _EXTRA_FLOAT.set(tuple(modules))
    try:
        yield
    finally:
        _EXTRA_FLOAT.reset(token)


def leading_modules(model: nn.Module, count: int) -> list[str]:
    """The first ``count`` modules of ``model.backbone`` in execution order, lists of blocks
    expanded: ``backbone.stem``, ``backbone.blocks.0``, …"""
    backbone = getattr(model, "backbone", None)
    found: list[str] = []
    if backbone is None:
        return found
    for name, child in backbone.named_children():
        blocks = list(child.named_children()) if isinstance(child, (nn.ModuleList, nn.Sequential)) else []
        if blocks and all(any(True for _ in block.children()) for _, block in blocks):
            found += [f"backbone.{name}.{sub}" for sub, _ in blocks]
        else:
            found.append(f"backbone.{name}")
    return found[:count]


def in_float_scope(module_path: str) -> bool:
    """True for a module path (``head.blur``, ``backbone.stem.0``) inside the float part."""
    return any(module_path == m or module_path.startswith(m + ".") for m in float_modules())


def onnx_node_modules(node) -> list[str]:
    """Torch module paths enclosing an ONNX node from the dynamo exporter, outermost first.

    ``name_scopes`` reads ``['', 'head', 'head.blur', 'conv2d_23']``: the root, each
    enclosing module by its full dotted path, then the op itself.
    """
    for prop in node.metadata_props:
        if prop.key == NAME_SCOPES_KEY:
            try:
                scopes = [str(s) for s in ast.literal_eval(prop.value)]
            except (ValueError, SyntaxError):
                return []
            return [s for s in scopes[1:-1] if s]
    return []


def onnx_node_module(node) -> str:
    """The innermost torch module path of an ONNX node ('' if unknown or top level)."""
    modules = onnx_node_modules(node)
    return modules[-1] if modules else ""


def onnx_float_nodes(model) -> list[str]:
    """Names of the nodes of an exported ONNX ``ModelProto`` that belong to the float head."""
    return [n.name for n in model.graph.node if in_float_scope(onnx_node_module(n))]
