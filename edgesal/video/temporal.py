"""Temporal students as frame models: the state is carried from frame to frame and reset per clip.

:func:`load_frame_model` is what ``edgesal predict VIDEO`` and ``edgesal evaluate`` (video
datasets) call for ``--model``: a temporal student — a torch model with explicit state
(:class:`edgesal.models.temporal.TemporalSaliencyNet`, e.g. the shipped ``video``) or an
artefact exported with state tensors — runs as a :class:`StatefulFrameModel`; any other model
runs per frame (:class:`~.frame_models.PerFrameModel`). ``smooth`` adds the EMA on top in
both cases.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from edgesal.errors import EdgesalError
from edgesal.models.factory import create_model, model_source
from edgesal.models.temporal import is_stateful
from edgesal.predictors.torch_model import TorchModelPredictor, output_to_map, preprocess

from .frame_models import FrameModel, PerFrameModel, check_smooth, finish_map


class TorchStepper:
    """One frame of a torch temporal model: (1, 3, h, w) normalised → (1, 1, h, w) log density."""

    def __init__(self, model: torch.nn.Module, input_hw: tuple[int, int], num_threads: int | None = None) -> None:
        self.model, self.input_hw = model.eval(), input_hw
        self.state: torch.Tensor | None = None
        if num_threads:
            torch.set_num_threads(num_threads)

    def reset(self) -> None:
        self.state = None

    @torch.inference_mode()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.state is None:
            self.state = self.model.initial_state(self.input_hw)[0]
        out, self.state = self.model(torch.from_numpy(x), self.state)
        return out.numpy()


class SessionStepper:
    """One frame of an artefact exported with state tensors (the runtime session carries the state)."""

    def __init__(self, session) -> None:
        self.session = session

    def reset(self) -> None:
        self.session.reset_state()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.maps(x)[:, None]


class StatefulFrameModel(FrameModel):
    """A temporal student run frame by frame; ``reset()`` zeros its state (a new clip)."""

    def __init__(self, stepper, name: str, input_hw: tuple[int, int], mean, std, smooth: float | None = None,
                 info: dict | None = None) -> None:
        self.stepper, self.input_hw, self.mean, self.std = stepper, tuple(input_hw), mean, std
        self.smooth = check_smooth(smooth)
        self.name = name + (f"+ema{smooth:g}" if smooth is not None else "")
        self.info = info or {}
        self._ema: np.ndarray | None = None

    def reset(self) -> None:
        self.stepper.reset()
        self._ema = None

    def predict(self, frame: np.ndarray) -> np.ndarray:
        x = preprocess(frame, self.input_hw, self.mean, self.std).numpy()
        out = torch.from_numpy(np.asarray(self.stepper(x), dtype=np.float32))
        saliency = output_to_map(out, "log_density", frame.shape[:2])[0, 0].numpy()
        result, self._ema = finish_map(saliency, self.name, self._ema, self.smooth)
        return result

    def describe(self) -> dict:
        return {**self.info, "name": self.name, "temporal": True, "input_hw": list(self.input_hw),
                "smooth": self.smooth}


def _artefact_frame_model(path: Path, smooth: float | None, num_threads: int) -> FrameModel | None:
    """A stateful frame model of an exported artefact with state tensors; None if it has none."""
    from edgesal.runtimes import load_runtime

    session = load_runtime(path, num_threads=num_threads)
    if not session.stateful:
        return None
    meta = session.metadata
    if meta.get("output_kind") != "log_density" or "mean" not in meta:
        raise EdgesalError(f"{path} has state tensors but no edgesal log-density metadata: export it with "
                           "`edgesal export`")
    return StatefulFrameModel(SessionStepper(session), Path(path).name, tuple(meta["input_hw"]), meta["mean"],
                              meta["std"], smooth, {"runtime": session.runtime_name, "source": str(path)})


def load_frame_model(model: str, smooth: float | None = None, num_threads: int = 1) -> FrameModel:
    """``--model`` of a video run: a temporal student with its state, or any image model per frame."""
    from edgesal.predictors import load_predictor

    source = model_source(model)
    if source is not None and source.kind == "artefact":
        stateful = _artefact_frame_model(source.path, smooth, num_threads)
        if stateful is not None:
            return stateful
    elif source is not None and source.kind in ("shipped", "checkpoint"):
        loaded = create_model(model)
        if not is_stateful(loaded.model):
            return PerFrameModel(TorchModelPredictor(loaded.model, loaded.spec, loaded.meta, num_threads), smooth)
        spec = loaded.spec
        return StatefulFrameModel(TorchStepper(loaded.model, spec.input_hw, num_threads), source.name,
                                  spec.input_hw, spec.mean, spec.std, smooth,
                                  {"architecture": spec.name, "source": loaded.meta.get("path")})
    return PerFrameModel(load_predictor(model, num_threads=num_threads), smooth)
