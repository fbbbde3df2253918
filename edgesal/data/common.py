"""Shared machinery of the file-based loaders: sizes, dropping outliers, σ, building a Sample."""

from __future__ import annotations

import math
from abc import abstractmethod
from pathlib import Path

import numpy as np

from edgesal.errors import EdgesalError

from .base import SaliencyDataset, Sample
from .density import density_from_fixations, load_density_map
from .fixation_points import clip_fixations, normalise_points
from .images import load_rgb, read_image_size
from .notices import warn

SIGMA_WIDTH_FRACTION = 0.03  # σ = 0.03 × image width where pixels-per-degree is unknown


class FixationDataset(SaliencyDataset):
    """A dataset on disk: images addressed by stem, fixation points, optional GT maps.

    Subclasses implement :meth:`stems`, :meth:`image_path`, :meth:`_stem_fixations`
    (0-based (N, 3) x, y, observer, all on the image) and optionally :meth:`density_map_path`
    and :meth:`matches` (layout auto-detection). Points more than half a pixel outside their
    image are dropped (see :func:`~edgesal.data.fixation_points.clip_fixations`), counted in
    :attr:`n_dropped` and reported in one warning per dataset. Loaders that parse one
    annotation file for the whole dataset derive from :class:`ParsedFixationDataset` (all
    points checked at once with :meth:`_clip_all`); loaders with one fixation file per image
    from :class:`PerImageFixationDataset`.
    """

    name = "dataset"
    #: pixels per degree of visual angle at which the stimuli were shown (None: unknown)
    px_per_degree: float | None = None
    #: one-line layout description, used in error messages and docs
    layout = ""

    def __init__(self, root: str | Path, sigma_px: float | None = None, *, name: str | None = None,
                 use_maps: bool = True) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise EdgesalError(f"dataset directory not found: {self.root}")
        if sigma_px is not None and not (math.isfinite(sigma_px) and sigma_px > 0):
            raise EdgesalError(f"sigma_px must be a positive number of pixels, got {sigma_px}")
        if name is not None:
            self.name = name
        self.sigma_override = None if sigma_px is None else float(sigma_px)
        self.use_maps = use_maps
        #: fixations dropped because they lay more than half a pixel outside their image
        self.n_dropped = 0
        self._sizes: dict[str, tuple[int, int]] = {}

    # ----------------------------------------------------------------- subclass API
    @classmethod
    def matches(cls, root: Path) -> bool:
        """Whether ``root`` looks like this format (used by auto-detection)."""
        return False

    @abstractmethod
    def image_path(self, stem: str) -> Path:
        """Path of the stimulus image of ``stem``."""

    @abstractmethod
    def _stem_fixations(self, stem: str) -> np.ndarray:
        """(N, 3) float64 x, y, observer in 0-based pixels, already inside the image."""

    def density_map_path(self, stem: str) -> Path | None:
        """Ground-truth density map of ``stem`` if the dataset ships one."""
        return None

    # ----------------------------------------------------------------- public API
    def _check_stem(self, stem: str) -> None:
        if stem not in self._stem_set():
            raise EdgesalError(f"{self.name}: unknown image stem {stem!r}")

    def _stem_set(self) -> set[str]:
        cached = getattr(self, "_stem_set_cache", None)
        if cached is None:
            cached = set(self.stems())
            self._stem_set_cache = cached
        return cached

    def image_size(self, stem: str) -> tuple[int, int]:
        """(height, width) from the image header (cached; pixels are not decoded)."""
        self._check_stem(stem)
        return self._size(stem)

    def _size(self, stem: str) -> tuple[int, int]:
        size = self._sizes.get(stem)
        if size is None:
            size = read_image_size(self.image_path(stem))
            self._sizes[stem] = size
        return size

    def fixations(self, stem: str) -> np.ndarray:
        """(N, 3) float64 x, y, observer in 0-based pixels of the image."""
        self._check_stem(stem)
        return self._stem_fixations(stem).copy()

    def fixations_normalised(self, stem: str) -> np.ndarray:
        """(N, 2) float64 x / W, y / H in [0, 1), without loading the image."""
        return normalise_points(self.fixations(stem), self._size(stem))

    def sigma_px(self, stem: str) -> float:
        """σ (pixels) of the Gaussian that turns this image's points into a density.

        The ``sigma_px`` override if given, else 1 degree of visual angle when
        :attr:`px_per_degree` is known, else 0.03 × the image width.
        """
        if self.sigma_override is not None:
            return self.sigma_override
        if self.px_per_degree is not None:
            return float(self.px_per_degree)
        return SIGMA_WIDTH_FRACTION * self._size(stem)[1]

    def load(self, stem: str) -> Sample:
        """Image, fixations and density map of one stem (map from disk when shipped)."""
        self._check_stem(stem)
        path = self.image_path(stem)
        image = load_rgb(path)
        h, w = image.shape[:2]
        if self._sizes.get(stem, (h, w)) != (h, w):
            raise EdgesalError(f"{path}: decoded size {w}x{h} differs from its header")
        self._sizes[stem] = (h, w)
        fix = self.fixations(stem)
        sigma = self.sigma_px(stem)
        map_path = self.density_map_path(stem) if self.use_maps else None
        if map_path is not None:
            density, source = load_density_map(map_path, (h, w)), "map"
        else:
            density, source = density_from_fixations(fix, (h, w), sigma), "points"
        meta = {
            "dataset": self.name,
            "sigma_px": sigma,
            "px_per_degree": self.px_per_degree,
            "density_source": source,
            "n_observers": len(np.unique(fix[:, 2])) if len(fix) else 0,
        }
        return Sample(stem=stem, image_path=path, image=image, fixations=fix, density=density, meta=meta)

    # ----------------------------------------------------------------- helpers
    def _warn_skipped(self, stems: list[str], missing: str) -> None:
        """One warning naming (up to five of) the ``stems`` skipped for want of ``missing``."""
        if stems:
            shown = ", ".join(stems[:5]) + (", …" if len(stems) > 5 else "")
            warn(f"{self.name}: skipped {len(stems)} image(s) without {missing} ({shown})")

    def _warn_dropped(self, n_out: int, n_all: int, scope: str = "") -> None:
        """Count ``n_out`` dropped outliers (of ``n_all`` points) and warn about them."""
        self.n_dropped += n_out
        if n_out:
            warn(f"{self.name}: dropped {n_out} fixation(s) outside the image ({n_out} of {n_all}{scope}; "
                 "only points within half a pixel of the border are kept)")

    def _clip_all(self, points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Drop every stem's points that lie off its image, counting them and warning once.

        Stems left without any fixation are skipped (one warning): they cannot be scored.
        """
        clipped: dict[str, np.ndarray] = {}
        empty: list[str] = []
        n_out = n_all = 0
        for stem, fix in points.items():
            kept, n = clip_fixations(fix, self._size(stem)) if len(fix) else (fix, 0)
            n_out += n
            n_all += len(fix)
            if len(kept):
                clipped[stem] = kept
            else:
                empty.append(stem)
        self._warn_dropped(n_out, n_all)
        self._warn_skipped(empty, "fixations on the image" if n_out else "fixations")
        if not clipped:
            outside = f" ({n_out} fixation(s) lay outside their image)" if n_out else ""
            raise EdgesalError(f"{self.name}: no images with fixations under {self.root}{outside}")
        return clipped


class ParsedFixationDataset(FixationDataset):
    """A dataset whose annotation file(s) hold the fixations of every image, parsed once, lazily.

    Subclasses implement :meth:`_read_points`: the raw (unchecked) points of every stem, in
    stem order, recording each image's path in ``self._paths`` (loaders whose image paths
    follow from the stem override :meth:`image_path` instead). The checked points are
    cached; :meth:`stems` lists them in that order.
    """

    def __init__(self, root: str | Path, sigma_px: float | None = None, **kwargs) -> None:
        super().__init__(root, sigma_px, **kwargs)
        self._points: dict[str, np.ndarray] | None = None
        self._paths: dict[str, Path] = {}

    @abstractmethod
    def _read_points(self) -> dict[str, np.ndarray]:
        """Stem → (N, 3) x, y, observer in 0-based pixels, not yet checked against the image."""

    def _parse(self) -> dict[str, np.ndarray]:
        if self._points is None:
            self._points = self._clip_all(self._read_points())
        return self._points

    def stems(self) -> list[str]:
        return list(self._parse())

    def image_path(self, stem: str) -> Path:
        if stem not in self._paths:
            self._parse()
        if stem not in self._paths:
            raise EdgesalError(f"{self.name}: unknown image stem {stem!r}")
        return self._paths[stem]

    def _stem_fixations(self, stem: str) -> np.ndarray:
        return self._parse()[stem]


class PerImageFixationDataset(FixationDataset):
    """A dataset with one fixation file per image, each read (and checked) when first needed.

    Subclasses implement :meth:`_find_images` (stem → image path), :meth:`_fixation_path`
    and :meth:`_read_points`. Images whose fixation file is missing are skipped with one
    warning; :attr:`fixation_file` and :attr:`fixation_kind` word the messages.
    """

    #: the per-image fixation file as named in messages, e.g. ``FIXATIONLOCS/<stem>.mat``
    fixation_file = "<stem> fixation file"
    #: what those files hold, as named in messages
    fixation_kind = "fixation points"

    def __init__(self, root: str | Path, sigma_px: float | None = None, **kwargs) -> None:
        super().__init__(root, sigma_px, **kwargs)
        self._paths: dict[str, Path] | None = None
        self._points: dict[str, np.ndarray] = {}

    @abstractmethod
    def _find_images(self) -> dict[str, Path]:
        """Stem → image path of every stimulus on disk, with or without fixations."""

    @abstractmethod
    def _fixation_path(self, stem: str) -> Path:
        """The fixation file of ``stem`` (which may not exist)."""

    @abstractmethod
    def _read_points(self, stem: str, size: tuple[int, int]) -> np.ndarray:
        """(N, 3) x, y, observer of ``stem`` (image ``size`` = (H, W)), not yet checked."""

    def _data_dir(self) -> Path:
        """The folder named when no image has fixations."""
        return self.root

    def _index(self) -> dict[str, Path]:
        if self._paths is None:
            found = self._find_images()
            kept = {s: p for s, p in found.items() if self._fixation_path(s).is_file()}
            self._warn_skipped(sorted(set(found) - set(kept)), self.fixation_file)
            if not kept:
                raise EdgesalError(f"{self.name}: no images with {self.fixation_kind} under {self._data_dir()}")
            self._paths = kept
        return self._paths

    def stems(self) -> list[str]:
        return sorted(self._index())

    def image_path(self, stem: str) -> Path:
        paths = self._index()
        if stem not in paths:
            raise EdgesalError(f"{self.name}: unknown image stem {stem!r}")
        return paths[stem]

    def _stem_fixations(self, stem: str) -> np.ndarray:
        if stem not in self._points:
            size = self._size(stem)
            raw = self._read_points(stem, size)
            self._points[stem], n_out = clip_fixations(raw, size)
            if n_out and self.n_dropped == 0:  # one warning per dataset; later drops are counted
                self._warn_dropped(n_out, len(raw), f" in {stem}, the first image with any; see n_dropped")
            else:
                self.n_dropped += n_out
        return self._points[stem]
