"""The Python API behind ``edgesal.load`` / ``predict`` / ``evaluate`` (docs/api.md).

Thin wrappers over what the CLI commands call (:func:`edgesal.predictors.load_predictor`,
:func:`edgesal.cropping.api.saliency_map`, :func:`edgesal.evaluation.evaluate`); each imports
its stack on first use, so ``import edgesal`` stays light. ``edgesal.export(...)`` is
:func:`edgesal.export.call.export` (the package is callable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from edgesal.evaluation import EvaluationResult
    from edgesal.predictors import Predictor


def load(model: str = "default", num_threads: int | None = None, **context) -> Predictor:
    """A predictor for ``model``: a shipped name (``default``, ``fast``), a baseline or peer, a
    ``.pt`` checkpoint or an exported artefact (``.onnx``, ``.tflite``, OpenVINO ``.xml``).

    ``predictor.predict(rgb)`` maps an (H, W, 3) uint8 RGB array to an (H, W) float32 map.
    """
    from edgesal.predictors import load_predictor

    if num_threads is not None:
        context["num_threads"] = num_threads
    return load_predictor(model, **context)


def predict(image: Any, model: str | Predictor = "default", num_threads: int = 1) -> np.ndarray:
    """The saliency map of ``image`` (path, PIL image or RGB uint8 array) at its size, (H, W) float32.

    A model given by name is loaded once and cached; pass a :func:`load`-ed predictor to control that.
    """
    from edgesal.cropping.api import as_rgb, saliency_map

    return saliency_map(as_rgb(image), model, num_threads)


def evaluate(model: str | Predictor = "default", data: str = "osie", split: str | None = None,
             limit: int | None = None, num_threads: int | None = None, progress: bool = False) -> EvaluationResult:
    """MIT-benchmark metrics of ``model`` on a dataset (name or folder) split, like ``edgesal evaluate``.

    Returns an :class:`~edgesal.evaluation.EvaluationResult`: ``.means`` (``auc_judd``, ``nss``,
    ``cc``, …), ``.n_images``, ``.per_image``.
    """
    from edgesal.evaluation import evaluate as run
    from edgesal.evaluation import predictor_source

    predictor = load(model, num_threads=num_threads, data=data) if isinstance(model, str) else model
    return run(data, predictor_source(predictor), split=split, limit=limit, progress=progress)
