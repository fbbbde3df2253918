"""edgesal: visual saliency models for phones and edge CPUs."""

__version__ = "0.1.0"


def crop(image, aspect, model="default", **options):
    """The most salient crop of ``aspect`` (e.g. ``"9:16"``) of ``image`` → ``Crop(x, y, w, h, score, aspect)``.

    Imports numpy and the model lazily, so ``import edgesal`` stays light; see
    :func:`edgesal.cropping.api.crop` for the options (``method``, ``zoom``, ``num_threads``).
    """
    from edgesal.cropping.api import crop as _crop

    return _crop(image, aspect, model=model, **options)
