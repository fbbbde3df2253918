"""Run an edgesal torch model (registered name, shipped name or ``.pt`` checkpoint)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from edgesal.errors import EdgesalError
from edgesal.imaging import resize_rgb
from edgesal.predictors.base import Predictor
from edgesal.predictors.registry import register_file_loader, register_name_resolver


def preprocess(image: np.ndarray, input_hw: tuple[int, int], mean, std) -> torch.Tensor:
    """uint8 RGB (H, W, 3) → normalised float tensor (1, 3, h, w) at the model's input size."""
    x = torch.from_numpy(np.array(resize_rgb(image, input_hw))).float().div_(255.0).permute(2, 0, 1)
    mean_t = torch.tensor(mean).view(3, 1, 1)
    std_t = torch.tensor(std).view(3, 1, 1)
    return ((x - mean_t) / std_t)[None]


def output_to_map(out: torch.Tensor, output_kind: str, size_hw: tuple[int, int]) -> torch.Tensor:
    """(1, 1, h, w) model output → (1, 1, H, W) map at ``size_hw``: a density summing to 1
    for ``log_density`` outputs, sigmoid probabilities for ``sigmoid`` logits."""
    if output_kind == "log_density":
        dens = F.interpolate(out.exp(), size=size_hw, mode="bilinear", align_corners=False)
        return dens / dens.sum()
    return F.interpolate(torch.sigmoid(out), size=size_hw, mode="bilinear", align_corners=False)


class TorchModelPredictor(Predictor):
    """A ``SaliencyNet`` with the preprocessing recorded in its spec."""

    def __init__(self, model: torch.nn.Module, spec, meta: dict | None = None, num_threads: int | None = None):
        self.model = model.eval()
        self.spec = spec
        self.meta = meta or {}
        self.name = self.meta.get("name", spec.name)
        self.output_kind = spec.output_kind
        if num_threads:
            torch.set_num_threads(num_threads)

    @torch.inference_mode()
    def _forward(self, image: np.ndarray) -> torch.Tensor:
        return self.model(preprocess(image, self.spec.input_hw, self.spec.mean, self.spec.std))

    def _density_at(self, out: torch.Tensor, size_hw: tuple[int, int]) -> torch.Tensor:
        return output_to_map(out, self.output_kind, size_hw)

    def predict(self, image: np.ndarray) -> np.ndarray:
        return self._density_at(self._forward(image), image.shape[:2])[0, 0].numpy()

    def predict_log_density(self, image: np.ndarray) -> np.ndarray | None:
        if self.output_kind != "log_density":
            return None
        dens = self._density_at(self._forward(image), image.shape[:2])[0, 0].double()
        return torch.log(dens.clamp_min(1e-30) / dens.sum()).numpy()

    def describe(self) -> dict:
        return {**super().describe(), "input_hw": list(self.spec.input_hw), "architecture": self.spec.name,
                "source": self.meta.get("path", "untrained"), "sha256": self.meta.get("sha256")}


@register_file_loader(".pt")
def _load_pt(path: Path, num_threads: int | None = None, **_: object) -> Predictor:
    from edgesal.models.factory import create_model

    loaded = create_model(path)
    return TorchModelPredictor(loaded.model, loaded.spec, loaded.meta, num_threads)


def _resolve(name: str):
    """Shipped names load; architecture names explain that they need training first."""
    from edgesal.models.factory import create_model, model_source

    source = model_source(name)
    if source is None or source.kind not in ("shipped", "architecture"):
        return None
    if source.kind == "architecture":
        def untrained(**_: object) -> Predictor:
            raise EdgesalError(f"{name!r} is an architecture without trained weights: train it "
                               f"(edgesal train --model {name}) and pass the checkpoint .pt")

        return untrained

    def factory(num_threads: int | None = None, **_: object) -> Predictor:
        loaded = create_model(name)
        return TorchModelPredictor(loaded.model, loaded.spec, loaded.meta, num_threads)

    return factory


register_name_resolver(_resolve)
