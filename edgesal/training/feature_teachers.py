"""Frozen teachers that expose intermediate features, for feature distillation (hint
pretraining, Zhang et al.'s feature statistics).

A teacher is named as :func:`edgesal.models.create_model` names models — a shipped name, an
architecture, a ``.pt`` checkpoint: its backbone levels (strides 4, 8, 16, 32) are the
features — or it is an exported ``.onnx`` / ``.tflite`` file whose intermediate tensors are
chosen by name (``tensors``). ONNX: the named tensors are added as graph outputs in a
temporary copy that onnxruntime runs (read as NCHW); TFLite: LiteRT keeps every tensor
(``experimental_preserve_all_tensors``) and they are read by name (as NHWC, the layout of
TFLite's kernels, whatever the model's input layout).

:meth:`FeatureTeacher.features` takes the *student's* normalised batch and converts it to
what the teacher expects (its mean/std; for a fixed-size artefact its input size), so a
teacher with another normalisation or input size works as it is.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from edgesal.errors import EdgesalError
from edgesal.models.factory import create_model, model_source
from edgesal.models.registry import ModelSpec
from edgesal.runtimes.base import image_input


def renormalise(x: Tensor, src: tuple[Sequence[float], Sequence[float]],
                dst: tuple[Sequence[float], Sequence[float]]) -> Tensor:
    """``x`` normalised with ``src`` = (mean, std) → the same RGB normalised with ``dst``."""
    if [[float(v) for v in pair] for pair in src] == [[float(v) for v in pair] for pair in dst]:
        return x

    def view(v):
        return torch.tensor(v, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)

    return (x * view(src[1]) + view(src[0]) - view(dst[0])) / view(dst[1])


class FeatureTeacher:
    """A frozen teacher: ``features(x)`` → a list of (B, C, h, w) float tensors (no gradient)."""

    name: str = "teacher"
    same_levels = False  # True: its features are backbone levels, paired with the student's by index

    def features(self, x: Tensor) -> list[Tensor]:
        raise NotImplementedError

    def __call__(self, x: Tensor) -> list[Tensor]:
        with torch.no_grad():
            return [f.detach() for f in self.features(x)]


class TorchFeatureTeacher(FeatureTeacher):
    """An edgesal model's backbone levels (strides 4, 8, 16, 32)."""

    same_levels = True  # its level k pairs with the student's level k

    def __init__(self, name: str, student: ModelSpec):
        loaded = create_model(name)
        self.model = loaded.model.eval().requires_grad_(False)
        if not hasattr(self.model, "backbone"):
            raise EdgesalError(f"teacher {name!r} has no backbone to take features from")
        self.name, self.spec, self.student = name, loaded.spec, student

    def features(self, x: Tensor) -> list[Tensor]:
        x = renormalise(x, (self.student.mean, self.student.std), (self.spec.mean, self.spec.std))
        return list(self.model.backbone(x))


def unknown_tensors(wanted: Sequence[str], known: Sequence[str], where: str) -> None:
    """EdgesalError naming the first unknown tensor and its closest known names; nothing if all are known."""
    missing = [n for n in wanted if n not in set(known)]
    if not missing:
        return
    close = difflib.get_close_matches(missing[0], list(known), n=5, cutoff=0.5)
    listing = f"close matches: {', '.join(close)}" if close else f"{len(known)} tensors, e.g. {', '.join(known[:5])}"
    raise EdgesalError(f"{where} has no tensor named {missing[0]!r} ({listing})")


class RuntimeFeatureTeacher(FeatureTeacher):
    """Named intermediate tensors of an exported ``.onnx`` / ``.tflite`` model (runs one image at a time)."""

    def __init__(self, path: str | Path, tensors: Sequence[str], student: ModelSpec, threads: int = 1):
        if not tensors:
            raise EdgesalError(f"teacher {path} is an exported model: name the intermediate tensors to "
                               "distil with --hint-tensors NAME[,NAME…]")
        self.path, self.tensors, self.student, self.name = Path(path), list(tensors), student, str(path)
        self._tmp = tempfile.TemporaryDirectory(prefix="edgesal-teacher-")
        self.channels_last = self.path.suffix.lower() == ".tflite"  # TFLite kernels keep activations NHWC
        if self.path.suffix.lower() == ".onnx":
            self.session, self.fetch = _onnx_session(self.path, self.tensors, Path(self._tmp.name), threads)
        elif self.path.suffix.lower() == ".tflite":
            self.session, self.fetch = _litert_session(self.path, self.tensors, threads)
        else:
            raise EdgesalError(f"{path}: named teacher tensors work with .onnx and .tflite files")
        meta = self.session.metadata
        self.norm = (meta.get("mean", student.mean), meta.get("std", student.std))

    def features(self, x: Tensor) -> list[Tensor]:
        x = renormalise(x, (self.student.mean, self.student.std), self.norm)
        if tuple(x.shape[-2:]) != tuple(self.session.input_hw):
            x = F.interpolate(x, size=self.session.input_hw, mode="bilinear", align_corners=False)
        per_image = [self.fetch(self.session.prepare(xi[None].numpy())) for xi in x.float().cpu()]
        feats = []
        for k in range(len(self.tensors)):
            f = np.concatenate([outs[k] for outs in per_image]).astype(np.float32)
            if f.ndim == 4 and self.channels_last:
                f = f.transpose(0, 3, 1, 2)
            if f.ndim != 4:
                raise EdgesalError(f"teacher tensor {self.tensors[k]!r} has shape {list(f.shape)}; "
                                   "feature distillation needs (1, C, H, W) feature maps")
            feats.append(torch.from_numpy(np.ascontiguousarray(f)))
        return feats


def _onnx_session(path: Path, tensors: list[str], tmp: Path, threads: int):
    """An onnxruntime session of a copy of ``path`` whose outputs include ``tensors``, and its fetch."""
    import onnx

    from edgesal.runtimes.onnxruntime import OnnxRuntimeSession

    model = onnx.load(str(path))
    known = [o for node in model.graph.node for o in node.output if o]
    unknown_tensors(tensors, known, str(path))
    types = {vi.name: vi.type.tensor_type.elem_type
             for vi in onnx.shape_inference.infer_shapes(model).graph.value_info}
    outputs = {o.name for o in model.graph.output}
    for name in tensors:
        if name not in outputs:
            model.graph.output.append(onnx.helper.make_tensor_value_info(
                name, types.get(name, onnx.TensorProto.FLOAT), None))
    copy = tmp / path.name
    onnx.save(model, str(copy))
    session = OnnxRuntimeSession(copy, num_threads=threads)

    def fetch(prepared: np.ndarray) -> list[np.ndarray]:
        return session.invoke_named({session.image_name: prepared}, tensors)

    return session, fetch


def _litert_session(path: Path, tensors: list[str], threads: int):
    """A LiteRT session of ``path`` (input preparation) and a fetch of ``tensors`` from an
    interpreter that keeps every intermediate tensor (dequantised when int8)."""
    from edgesal.runtimes.litert import LiteRTModel, LiteRTSession

    session = LiteRTSession(path, num_threads=threads)
    model = LiteRTModel(path, num_threads=threads, preserve_all_tensors=True)
    details = {d["name"]: d for d in model.interpreter.get_tensor_details()}
    unknown_tensors(tensors, list(details), str(path))
    image = image_input(list(model.inputs.values()), lambda d: d["shape"])["name"]

    def fetch(prepared: np.ndarray) -> list[np.ndarray]:
        out = model.run({image: prepared}, tensors)
        values = []
        for name in tensors:
            v, (scale, zero) = out[name], details[name]["quantization"]
            values.append((v.astype(np.float32) - zero) * scale if scale else v.astype(np.float32))
        return values

    return session, fetch


def load_feature_teacher(name: str, student: ModelSpec, tensors: Sequence[str] | None = None,
                         threads: int = 1) -> FeatureTeacher:
    """The teacher ``name`` names: an edgesal model (its backbone levels) or an exported file
    (its named ``tensors``)."""
    source = model_source(name)
    if source is not None and source.kind == "artefact":
        return RuntimeFeatureTeacher(source.path, tensors or [], student, threads)
    if tensors:
        raise EdgesalError(f"named teacher tensors are for exported .onnx/.tflite teachers; {name!r} is an "
                           "edgesal model whose backbone levels are used (drop --hint-tensors)")
    return TorchFeatureTeacher(name, student)
