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
"""

from __future__ import annotations

import ast

FLOAT_MODULES = ("head",)
NAME_SCOPES_KEY = "pkg.torch.onnx.name_scopes"


def in_float_scope(module_path: str) -> bool:
    """True for a module path (``head.blur``, ``backbone.stem.0``) inside the float part."""
    return any(module_path == m or module_path.startswith(m + ".") for m in FLOAT_MODULES)


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
