"""Predictors: baselines, peers, trained models and exported artefacts behind one interface."""

from edgesal.predictors import artefact as _artefact  # noqa: F401  (registers)
from edgesal.predictors import center_bias as _center_bias  # noqa: F401  (registers)
from edgesal.predictors import peers as _peers  # noqa: F401  (registers)
from edgesal.predictors import torch_model as _torch_model  # noqa: F401  (registers)
from edgesal.predictors.base import Predictor, density_to_log_density
from edgesal.predictors.registry import (
    list_predictors,
    load_predictor,
    register_file_loader,
    register_name_resolver,
    register_predictor,
)

__all__ = [
    "Predictor",
    "density_to_log_density",
    "list_predictors",
    "load_predictor",
    "register_file_loader",
    "register_name_resolver",
    "register_predictor",
]
