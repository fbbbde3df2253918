"""Name → predictor factory table, and file-suffix → loader table.

Baselines register here by name; trained edgesal models (``edgesal.models``) and exported
artefacts (one loader per suffix of the export format table) are resolved through the same
``load_predictor`` entry point.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgesal.errors import EdgesalError
from edgesal.predictors.base import Predictor

PredictorFactory = Callable[..., Predictor]


@dataclass(frozen=True)
class PredictorEntry:
    name: str
    factory: PredictorFactory
    description: str


_PREDICTORS: dict[str, PredictorEntry] = {}
_FILE_LOADERS: dict[str, Callable[..., Predictor]] = {}
_NAME_RESOLVERS: list[Callable[[str], Callable[..., Predictor] | None]] = []


def register_predictor(name: str, description: str) -> Callable[[PredictorFactory], PredictorFactory]:
    """Decorator: make ``factory(**context)`` loadable as ``--model name``."""

    def wrap(factory: PredictorFactory) -> PredictorFactory:
        _PREDICTORS[name] = PredictorEntry(name, factory, description)
        return factory

    return wrap


def register_file_loader(suffix: str) -> Callable:
    """Decorator: load model files ending in ``suffix`` (e.g. ``.tflite``)."""

    def wrap(loader: Callable[..., Predictor]) -> Callable[..., Predictor]:
        _FILE_LOADERS[suffix.lower()] = loader
        return loader

    return wrap


def register_name_resolver(resolver: Callable[[str], Callable[..., Predictor] | None]) -> None:
    """Add a fallback that turns other names (e.g. registered torch models) into factories."""
    _NAME_RESOLVERS.append(resolver)


def list_predictors() -> dict[str, str]:
    """Registered names → descriptions."""
    return {name: entry.description for name, entry in sorted(_PREDICTORS.items())}


def file_suffixes() -> list[str]:
    """Model-file suffixes ``load_predictor`` has a loader for."""
    return sorted(_FILE_LOADERS)


def known_names() -> list[str]:
    """Every name ``load_predictor`` accepts (baselines and registered models)."""
    names = set(_PREDICTORS)
    try:
        from edgesal.models.registry import list_models
        from edgesal.models.shipped import SHIPPED

        names.update(list_models())
        names.update(SHIPPED)
    except ImportError:
        pass
    return sorted(names)


def load_predictor(spec: str, tta: str | None = None, **context) -> Predictor:
    """Resolve a registered name or a model file path to a ready predictor.

    ``tta="hflip"`` averages the maps of the image and its mirror image
    (:mod:`edgesal.predictors.flip`). ``context`` carries optional hints such as ``data``
    (dataset name for fitted baselines) and ``num_threads``; factories ignore what they do not use.
    """
    from edgesal.predictors.flip import with_tta

    return with_tta(_resolve_predictor(spec, **context), tta)


def _resolve_predictor(spec: str, **context) -> Predictor:
    if spec in _PREDICTORS:
        return _PREDICTORS[spec].factory(**context)
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix in _FILE_LOADERS:
        if not path.exists():
            raise EdgesalError(f"model file not found: {path}")
        return _FILE_LOADERS[suffix](path, **context)
    for resolver in _NAME_RESOLVERS:
        factory = resolver(spec)
        if factory is not None:
            return factory(**context)
    if path.exists():
        raise EdgesalError(
            f"unsupported model file {path}: expected one of {sorted(_FILE_LOADERS)}"
        )
    hint = difflib.get_close_matches(spec, known_names(), n=1, cutoff=0.7)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    raise EdgesalError(f"unknown model {spec!r}{suggestion} (known: {', '.join(known_names())})")
