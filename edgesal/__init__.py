"""edgesal: visual saliency models for phones and edge CPUs."""

__version__ = "0.1.0"
