"""edgesal: visual saliency models for phones and edge CPUs.

The Python API (docs/api.md): :func:`load`, :func:`predict`, :func:`evaluate`, :func:`crop` and
``edgesal.export(...)`` (the :mod:`edgesal.export` package is callable: :func:`edgesal.export.call.export`).
Each imports numpy, torch or a runtime only when called, so ``import edgesal`` stays light.
"""

__version__ = "0.1.0"

from edgesal.api import evaluate, load, predict


def crop(image, aspect, model="default", **options):
    """The most salient crop of ``aspect`` (e.g. ``"9:16"``) of ``image`` → ``Crop(x, y, w, h, score, aspect)``.

    Imports numpy and the model lazily, so ``import edgesal`` stays light; see
    :func:`edgesal.cropping.api.crop` for the options (``method``, ``zoom``, ``num_threads``).
    """
    from edgesal.cropping.api import crop as _crop

    return _crop(image, aspect, model=model, **options)


def __getattr__(name: str):
    if name == "export":  # the package, callable (edgesal.export.__init__); imported on first use
        import edgesal.export

        return edgesal.export
    raise AttributeError(f"module 'edgesal' has no attribute {name!r}")


__all__ = ["__version__", "crop", "evaluate", "export", "load", "predict"]
