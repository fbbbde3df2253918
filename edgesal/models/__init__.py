"""Student models: backbones, decoders, heads, the architecture registry and checkpoints."""

from edgesal.models import zoo as _zoo  # noqa: F401  (registers architectures)
from edgesal.models.checkpoint import load_checkpoint, save_checkpoint
from edgesal.models.registry import ModelSpec, build_model, get_spec, list_models, register_model

__all__ = [
           "ModelSpec",
           "build_model",
           "get_spec",
           "list_models",
           "load_checkpoint",
           "register_model",
           "save_checkpoint",
]
