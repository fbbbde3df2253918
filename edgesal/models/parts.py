"""Registries of model parts (backbones, decoders, heads, temporal cells), filled by decorators where each part
is defined (timm's ``@register_model`` idea), so a new part is one file and one decorator."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TypeVar

from edgesal.errors import EdgesalError

T = TypeVar("T")


class PartRegistry(dict):
    """``name → part`` for one kind of part; lookups fail with a did-you-mean line."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: make the class (or factory) available under ``name`` (unique)."""

        def decorate(part: T) -> T:
            if name in self:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self[name] = part
            return part

        return decorate

    def lookup(self, name: str):
        """The part called ``name``; one-line error with a suggestion otherwise."""
        if name not in self:
            close = difflib.get_close_matches(name, list(self), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise EdgesalError(f"unknown {self.kind} {name!r} (choose from {', '.join(sorted(self))}){hint}")
        return self[name]


DECODERS = PartRegistry("decoder")
HEADS = PartRegistry("head")
TEMPORAL = PartRegistry("temporal cell")
register_decoder = DECODERS.register
register_head = HEADS.register
register_temporal = TEMPORAL.register
