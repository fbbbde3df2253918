"""The backbone registry: each backbone file registers its build function with
:func:`register_backbone` (name, weights, input normalisation), so a new backbone is one file
plus its import in ``backbones/__init__.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from edgesal.errors import EdgesalError
from edgesal.models.parts import PartRegistry

BackboneBuilder = Callable[..., nn.Module]  # build(pretrained: bool, **kwargs) -> feature extractor


@dataclass(frozen=True)
class BackboneSpec:
    """One registry entry. ``mean``/``std`` normalise RGB in [0, 1]: (x - mean) / std."""

    name: str
    build: BackboneBuilder
    weights: str | None  # None: architecture only
    input_size: tuple[int, int] = (224, 224)
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    num_classes: int = 1000
    # Index of ImageNet class "tench" in the head's logits (1 when class 0 is background).
    class_offset: int = 0
    # trained from random initialisation by design (no ImageNet weights exist or are wanted)
    from_scratch: bool = False


BACKBONES = PartRegistry("backbone")


def _architecture_only(name: str, cls: Callable[..., nn.Module], from_scratch: bool) -> BackboneBuilder:
    def build(pretrained: bool, **kwargs) -> nn.Module:
        if pretrained and not from_scratch:
            raise EdgesalError(f"no ImageNet weights ship for backbone {name!r}: use pretrained=False")
        return cls(**kwargs)

    return build


def register_backbone(name: str, *, weights: str | None = None, from_scratch: bool = False,
                      **info) -> Callable[[Callable], Callable]:
    """Decorator for a backbone: a ``build(pretrained, **kwargs)`` function when ``weights``
    are given, else the ``nn.Module`` class itself (``pretrained=True`` is then refused unless
    ``from_scratch``). ``info``: :class:`BackboneSpec` fields (mean, std, num_classes, …)."""

    def decorate(obj: Callable) -> Callable:
        build = obj if weights is not None else _architecture_only(name, obj, from_scratch)
        BACKBONES.register(name)(BackboneSpec(name, build, weights, from_scratch=from_scratch, **info))
        return obj

    return decorate


def get_backbone_spec(name: str) -> BackboneSpec:
    return BACKBONES.lookup(name)


def build_backbone(name: str, pretrained: bool = False, **kwargs) -> nn.Module:
    """Build backbone ``name``; ``pretrained=True`` loads its ImageNet weights.

    ``kwargs`` go to the model class (e.g. ``with_head=True``, ``tf_same_padding``).
    """
    return get_backbone_spec(name).build(pretrained, **kwargs)
