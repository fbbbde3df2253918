"""Turn a converter's traceback into one line naming the unsupported op and its layer."""

from __future__ import annotations

import re

import torch
from torch import nn

from edgesal.errors import EdgesalError

_OP = re.compile(r"\b(aten[.:]{1,2}[A-Za-z0-9_]+)")


def _module_using(model: nn.Module, example: torch.Tensor, op_name: str) -> str | None:
    """Dotted path of the first module whose traced graph calls ``op_name`` (aten.xxx)."""
    short = op_name.replace("::", ".").split(".")[1]
    try:
        graph = torch.export.export(model, (example,)).graph
    except Exception:
        return None
    for node in graph.nodes:
        if node.op == "call_function" and str(node.target).replace("::", ".").split(".")[1:2] == [short]:
            stack = node.meta.get("nn_module_stack") or {}
            return list(stack.values())[-1][0] if stack else "<top level>"
    return None


def conversion_error(target: str, exc: BaseException, model: nn.Module, example: torch.Tensor) -> EdgesalError:
    """``EdgesalError('tflite cannot convert aten.xxx (layer decoder.up.1): …')``."""
    text = " ".join(str(exc).split())
    match = _OP.search(text)
    if match:
        op = match.group(1).replace("::", ".")
        layer = _module_using(model, example, op)
        where = f" (layer {layer})" if layer else ""
        return EdgesalError(f"{target} cannot convert op {op}{where}: {text[:300]}")
    return EdgesalError(f"{target} conversion failed: {type(exc).__name__}: {text[:300]}")
