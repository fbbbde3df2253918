"""Exported artefacts (``.onnx``, ``.tflite``, OpenVINO ``.xml``) as predictors.

The artefact runs in its own runtime (:func:`edgesal.runtimes.load_runtime`) with the
preprocessing recorded in its edgesal metadata (input size, mean/std), and its output is
turned into a map exactly like the torch predictor's. Artefacts without edgesal metadata
are refused: their preprocessing and output semantics are unknown.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from edgesal.errors import EdgesalError
from edgesal.predictors.base import Predictor
from edgesal.predictors.registry import register_file_loader
from edgesal.predictors.torch_model import output_to_map, preprocess
from edgesal.runtimes.formats import EXPORT_FORMATS


class ArtefactPredictor(Predictor):
    def __init__(self, path: Path, num_threads: int | None = None):
        from edgesal.runtimes import load_runtime

        self.session = load_runtime(path, num_threads=num_threads or 1)
        self.meta = self.session.metadata
        missing = [k for k in ("input_hw", "mean", "std", "output_kind") if k not in self.meta]
        if missing:
            raise EdgesalError(f"{path} has no edgesal metadata ({', '.join(missing)} missing): "
                               "export it with `edgesal export`")
        self.name = Path(path).name
        self.output_kind = self.meta["output_kind"]
        self.input_hw = tuple(self.meta["input_hw"])

    def _output(self, image: np.ndarray) -> torch.Tensor:
        x = preprocess(image, self.input_hw, self.meta["mean"], self.meta["std"]).numpy()
        return torch.from_numpy(self.session.run(x))

    def predict(self, image: np.ndarray) -> np.ndarray:
        return output_to_map(self._output(image), self.output_kind, image.shape[:2])[0, 0].numpy()

    def predict_log_density(self, image: np.ndarray) -> np.ndarray | None:
        if self.output_kind != "log_density":
            return None
        dens = output_to_map(self._output(image), self.output_kind, image.shape[:2])[0, 0].double()
        return torch.log(dens.clamp_min(1e-30) / dens.sum()).numpy()

    def describe(self) -> dict:
        return {**super().describe(), "runtime": self.session.runtime_name, "source": str(self.session.path),
                **{k: v for k, v in self.meta.items() if k not in ("parity",)},
                "parity": self.meta.get("parity") and {k: self.meta["parity"].get(k) for k in
                                                       ("cc", "kl", "dauc", "dnss", "passed", "images")}}


def _load(path: Path, num_threads: int | None = None, **_: object) -> Predictor:
    return ArtefactPredictor(path, num_threads)


for _format in EXPORT_FORMATS.values():
    register_file_loader(_format.suffix)(_load)
