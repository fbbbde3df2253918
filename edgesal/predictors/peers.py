"""Reference TFLite saliency models run through LiteRT (the peers every student must beat).

- ``attention-center``: Google's SALICON-trained attention-centre model. Input ``image:0``
  float32 [1, 480, 640, 3] RGB in [0, 1] plus a string ``filename:0``; its official output
  is a 2-D point, but the internal ``Sigmoid`` tensor is a 480×640 saliency map, read with
  ``experimental_preserve_all_tensors``.
- ``glimpse``: the glimpse-android model. Input float32 NCHW [1, 3, 176, 176] in [0, 1];
  output a 22×22 sigmoid map.
Both maps are bilinearly resized back to the image size.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError
from edgesal.imaging import resize_map, resize_rgb, to_float01
from edgesal.paths import shared_path
from edgesal.predictors.base import Predictor
from edgesal.predictors.registry import register_predictor
from edgesal.runtimes.litert import LiteRTModel


def _weights_file(env_var: str, relative: str) -> Path:
    """User override via environment variable, else ../shared/weights/<relative>."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    path = shared_path("weights", relative)
    if path is None:
        raise EdgesalError(
            f"weights {relative} not found: set {env_var} or place ../shared/weights beside the project"
        )
    return path


class AttentionCenterPredictor(Predictor):
    name = "attention-center"
    output_kind = "sigmoid"
    input_hw = (480, 640)

    def __init__(self, path: Path, num_threads: int = 1):
        self.model = LiteRTModel(path, num_threads=num_threads, preserve_all_tensors=True)
        if "Sigmoid" not in self.model._tensor_index:
            raise EdgesalError(f"{path}: no internal 'Sigmoid' tensor; is this attention-center?")

    def predict(self, image: np.ndarray) -> np.ndarray:
        x = to_float01(resize_rgb(image, self.input_hw))[None]
        out = self.model.run(
            {"image:0": x, "filename:0": np.array(b"image", dtype=np.bytes_)}, fetch=["Sigmoid"]
        )["Sigmoid"][0]
        return resize_map(out, image.shape[:2])


class GlimpsePredictor(Predictor):
    name = "glimpse"
    output_kind = "sigmoid"
    input_hw = (176, 176)

    def __init__(self, path: Path, num_threads: int = 1):
        self.model = LiteRTModel(path, num_threads=num_threads)
        self.input_name = next(iter(self.model.inputs))
        self.output_name = next(iter(self.model.outputs))

    def predict(self, image: np.ndarray) -> np.ndarray:
        x = to_float01(resize_rgb(image, self.input_hw)).transpose(2, 0, 1)[None]
        out = self.model.run({self.input_name: np.ascontiguousarray(x)})[self.output_name]
        return resize_map(out[0, 0], image.shape[:2])


@register_predictor("attention-center", "Google attention-center TFLite (SALICON), internal Sigmoid map")
def _attention_center(num_threads: int = 1, **_: object) -> Predictor:
    path = _weights_file("EDGESAL_ATTENTION_CENTER_TFLITE", "attention_center/center.tflite")
    return AttentionCenterPredictor(path, num_threads)


@register_predictor("glimpse", "glimpse-android TFLite saliency model (176×176 → 22×22)")
def _glimpse(num_threads: int = 1, **_: object) -> Predictor:
    path = _weights_file("EDGESAL_GLIMPSE_TFLITE", "glimpse/model.tflite")
    return GlimpsePredictor(path, num_threads)
