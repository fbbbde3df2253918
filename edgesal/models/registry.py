"""One table of model architectures (timm-style ``register_model``).

Each ``ModelSpec`` records the architecture (backbone, decoder, head and their options)
together with what every caller needs for preprocessing: input size (H, W), per-channel
mean/std (inputs are RGB in [0, 1], normalised as (x − mean) / std) and output kind.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field

from torch import nn

from edgesal.errors import EdgesalError

_MODELS: dict[str, ModelSpec] = {}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    backbone: str
    decoder: str
    head: str
    input_hw: tuple[int, int] = (192, 256)
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    decoder_kwargs: dict = field(default_factory=dict)
    head_kwargs: dict = field(default_factory=dict)
    description: str = ""
    temporal: str = ""  # a temporal cell (edgesal.models.temporal): a frame-by-frame model with explicit state
    temporal_kwargs: dict = field(default_factory=dict)

    @property
    def output_kind(self) -> str:
        """``log_density`` or ``sigmoid``: declared by the head class."""
        from edgesal.models import heads  # noqa: F401  (heads register on import)
        from edgesal.models.parts import HEADS

        return HEADS.lookup(self.head).output_kind

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_hw"], d["mean"], d["std"] = list(self.input_hw), list(self.mean), list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelSpec:
        d = dict(d)
        d["input_hw"], d["mean"], d["std"] = tuple(d["input_hw"]), tuple(d["mean"]), tuple(d["std"])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def with_input_hw(self, input_hw: tuple[int, int]) -> ModelSpec:
        return ModelSpec.from_dict({**self.to_dict(), "input_hw": list(input_hw)})


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add an architecture to the table (names are unique)."""
    if spec.name in _MODELS:
        raise ValueError(f"model {spec.name!r} registered twice")
    _MODELS[spec.name] = spec
    return spec


def list_models(pattern: str = "") -> list[str]:
    """Registered architecture names containing ``pattern``."""
    return sorted(n for n in _MODELS if pattern in n)


def get_spec(name: str) -> ModelSpec:
    """The spec of a registered architecture (one-line error with a suggestion otherwise)."""
    if name not in _MODELS:
        hint = difflib.get_close_matches(name, list(_MODELS), n=1)
        raise EdgesalError(f"unknown architecture {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""))
    return _MODELS[name]


def build_model(spec: ModelSpec | str, pretrained_backbone: bool = False) -> nn.Module:
    """Instantiate ``SaliencyNet`` (``TemporalSaliencyNet`` when the spec names a temporal cell)
    for a spec or registered name (parts from their registries)."""
    from edgesal.models import decoders, heads  # noqa: F401  (their parts register on import)
    from edgesal.models.backbones import build_backbone
    from edgesal.models.net import SaliencyNet
    from edgesal.models.parts import DECODERS, HEADS

    spec = get_spec(spec) if isinstance(spec, str) else spec
    backbone = build_backbone(spec.backbone, pretrained=pretrained_backbone)
    decoder = DECODERS.lookup(spec.decoder)(backbone.feature_channels, backbone.feature_strides,
                                            **spec.decoder_kwargs)
    head = HEADS.lookup(spec.head)(decoder.out_channels, spec.input_hw, **spec.head_kwargs)
    if spec.temporal:
        from edgesal.models.temporal import TemporalSaliencyNet

        return TemporalSaliencyNet(backbone, decoder, head, spec.temporal, **spec.temporal_kwargs)
    return SaliencyNet(backbone, decoder, head)
