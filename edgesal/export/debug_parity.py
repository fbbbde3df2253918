"""``--debug-parity``: find the first layer where an artefact's activations leave torch's.

How: torch forward hooks record every module's output (in execution order: children
before parents). A fresh fp32 ONNX export maps each module path to the tensor produced by
the last ONNX node inside that module (the exporter's ``name_scopes`` metadata). Those
tensors are exposed as extra outputs of the artefact — ONNX: added graph outputs (QDQ
int8 graphs keep the float tensor names); OpenVINO: ``model.add_outputs`` on the op with
that name (the IR is converted from the same ONNX graph) — and compared with the torch
activations by CC. TFLite is not supported: its tensors are NHWC and named by module
class, and the mapping is not implemented; debug the same model's ONNX/OpenVINO export,
or compare ``experimental_preserve_all_tensors`` output by hand. A stateful (temporal) model
is compared on one frame from the reset state: its state inputs are fed zeros, as torch runs
a frame without a state.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from edgesal.export.float_head import onnx_node_modules
from edgesal.export.onnx_export import INPUT_NAME, torch_to_onnx


def _torch_activations(model: torch.nn.Module, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    records: list[tuple[str, np.ndarray]] = []
    hooks = [module.register_forward_hook(
        lambda _m, _i, out, name=name: records.append((name, out.detach().numpy().copy()))
        if isinstance(out, torch.Tensor) else None)
        for name, module in model.named_modules() if name]
    try:
        with torch.inference_mode():
            model(torch.from_numpy(x))
    finally:
        for hook in hooks:
            hook.remove()
    return records


def _module_tensors(onnx_path: Path) -> dict[str, tuple[str, str]]:
    """module path → (node name, output tensor name) of the last node inside that module."""
    import onnx

    found: dict[str, tuple[str, str]] = {}
    for node in onnx.load(str(onnx_path)).graph.node:
        for module in onnx_node_modules(node):
            found[module] = (node.name, node.output[0])
    return found


def _onnx_values(artefact: Path, tensors: list[str], x: np.ndarray) -> dict[str, np.ndarray]:
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(artefact))
    present = {o for n in model.graph.node for o in n.output}
    # in QDQ graphs a fused activation's name may hold the pre-activation value: prefer what
    # the next layer actually reads, the DequantizeLinear output
    wanted = {t: (f"{t}_DequantizeLinear_Output" if f"{t}_DequantizeLinear_Output" in present else t)
              for t in tensors if t in present}
    existing = {o.name for o in model.graph.output}
    model.graph.output.extend([onnx.ValueInfoProto(name=v) for v in wanted.values() if v not in existing])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {i.name: np.zeros(i.shape, np.float32) for i in session.get_inputs() if i.name != INPUT_NAME}
    values = session.run(list(wanted.values()), {INPUT_NAME: x, **feed})
    return dict(zip(wanted, values))


def _openvino_values(artefact: Path, nodes: dict[str, str], x: np.ndarray) -> dict[str, np.ndarray]:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(artefact))
    by_name = {op.get_friendly_name(): op for op in model.get_ops()}
    tensors = [(tensor, by_name[node].output(0)) for node, tensor in nodes.items() if node in by_name]
    model.add_outputs([port for _, port in tensors])
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    feed = {i: np.zeros(tuple(port.get_shape()), np.float32) for i, port in enumerate(compiled.inputs) if i}
    results = compiled.create_infer_request().infer({0: x, **feed})  # state inputs (if any): the reset state
    extra = compiled.outputs[len(compiled.outputs) - len(tensors):]  # added outputs come last, in order
    return {tensor: results[out] for (tensor, _), out in zip(tensors, extra)}


def _cc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float(np.allclose(a, b))


def locate_divergence(model: torch.nn.Module, spec, artefact: Path, x: np.ndarray, min_cc: float = 0.99,
                      limit: int = 200) -> list[dict]:
    """Per-module comparisons in execution order, up to the first with CC < ``min_cc``."""
    suffix = artefact.suffix.lower()
    if suffix not in (".onnx", ".xml"):
        return [{"status": f"debug-parity is not implemented for {suffix} artefacts (see docs/export.md)"}]
    with tempfile.TemporaryDirectory() as tmp:
        mapping = _module_tensors(torch_to_onnx(model, spec.input_hw, Path(tmp) / "map.onnx"))
    activations = _torch_activations(model, x)
    nodes = {mapping[name][0]: mapping[name][1] for name, _ in activations if name in mapping}
    if suffix == ".onnx":
        values = _onnx_values(artefact, list(nodes.values()), x)
    else:
        values = _openvino_values(artefact, nodes, x)
    steps = []
    for name, ref in activations[:limit]:
        tensor = mapping.get(name, ("", ""))[1]
        got = values.get(tensor)
        if got is None or got.size != ref.size:
            continue
        got = got.reshape(ref.shape)
        step = {"layer": name, "tensor": tensor, "cc": _cc(ref, got),
                "max_abs_diff": float(np.abs(ref - got).max()), "ref_range": float(np.ptp(ref))}
        steps.append(step)
        if step["cc"] < min_cc:
            step["status"] = "first divergence"
            return steps
    steps.append({"status": f"no layer below CC {min_cc} ({len(steps)} compared)"})
    return steps
