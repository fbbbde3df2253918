"""Saliency-aware cropping: the crop search (pure, on maps), the one-image API, folder runs (local or
Ray: :mod:`.distributed`) and video reframing (:mod:`.reframe`, :mod:`.path`, :mod:`.cuts`, :mod:`.jitter`)."""

from edgesal.cropping.api import crop
from edgesal.cropping.aspect import Aspect, crop_size, parse_aspect
from edgesal.cropping.search import METHODS, Crop, best_crop

__all__ = ["METHODS", "Aspect", "Crop", "best_crop", "crop", "crop_size", "parse_aspect"]
