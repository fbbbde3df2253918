"""The parity gate: an artefact must reproduce the torch fp32 model's saliency maps.

On held-out images (default: the first N of the OSIE test split; without it, the
calibration images, which have no fixations) the artefact runs in its own runtime and the
torch fp32 model runs in torch; both outputs become saliency maps (``exp`` of a log
density, ``sigmoid`` of logits) at the model's resolution and are compared with
:func:`edgesal.metrics.cc` and :func:`edgesal.metrics.kld` (artefact map against the torch
map as reference). With fixations, AUC-Judd and NSS of both maps are computed at image
resolution and their mean differences gated too. Thresholds depend on the precision.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from edgesal.errors import EdgesalError
from edgesal.metrics import auc_judd, cc, kld, nss


@dataclass(frozen=True)
class ParityThresholds:
    min_cc: float
    max_kl: float
    max_dauc: float
    max_dnss: float

    def __post_init__(self) -> None:
        """Impossible gates (CC above 1, negative or non-finite limits) are refused."""
        for name, value in asdict(self).items():
            upper = 1.0 if name == "min_cc" else math.inf
            if not (math.isfinite(value) and 0.0 <= value <= upper):
                raise EdgesalError(f"parity threshold {name}={value} is impossible "
                                   f"(must be finite and {'in [0, 1]' if name == 'min_cc' else '≥ 0'})")

    def override(self, **values: float | None) -> ParityThresholds:
        """Copy with the given non-None values replaced."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


#: Default gate per precision (CC/KL between maps; |Δ| of mean AUC-Judd and NSS): the one table
#: of parity thresholds (the bench harness and device_tests read ``min_cc`` from it).
DEFAULT_THRESHOLDS: dict[str, ParityThresholds] = {
    "fp32": ParityThresholds(min_cc=0.99, max_kl=0.01, max_dauc=0.001, max_dnss=0.01),
    "fp16": ParityThresholds(min_cc=0.99, max_kl=0.01, max_dauc=0.002, max_dnss=0.02),
    "int8": ParityThresholds(min_cc=0.97, max_kl=0.05, max_dauc=0.005, max_dnss=0.05),
}


@dataclass
class ParitySample:
    """One held-out image (uint8 RGB) and its binary fixation map if known."""

    name: str
    image: np.ndarray
    fixation_map: np.ndarray | None = None


@dataclass
class ParityReport:
    images: int
    source: str
    cc: float
    cc_min: float
    kl: float
    max_abs_diff: float
    auc_torch: float | None = None
    auc_artefact: float | None = None
    dauc: float | None = None
    nss_torch: float | None = None
    nss_artefact: float | None = None
    dnss: float | None = None
    thresholds: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def load_parity_samples(data: str | None, n: int, fallback: list[Path] | None = None) -> tuple[list[ParitySample], str]:
    """First ``n`` images of ``data`` (a dataset name → its test split, or a dataset folder).

    If ``data`` is None or cannot be opened, the ``fallback`` image files are used without
    fixations. Returns (samples, description of the source).
    """
    from edgesal.data import list_datasets, load_rgb, open_dataset

    if data:
        try:
            split = "test" if data.lower() in list_datasets() else None
            dataset = open_dataset(data, split=split)
            samples = []
            for stem in dataset.stems()[:n]:
                s = dataset.load(stem)
                samples.append(ParitySample(stem, s.image, s.fixation_map()))
            if samples:
                return samples, f"{data}{' test split' if split else ''}, first {len(samples)}"
        except EdgesalError:
            if not fallback:
                raise
    if not fallback:
        raise EdgesalError("no parity images: pass --parity-data DATASET_OR_DIR or --calib DIR")
    samples = []
    for path in fallback[:n]:
        try:
            samples.append(ParitySample(Path(path).name, load_rgb(path)))
        except EdgesalError:
            continue
    if not samples:
        raise EdgesalError("no readable parity images")
    return samples, f"calibration images (no fixations), first {len(samples)}"


def preprocess_samples(samples: list[ParitySample], spec) -> np.ndarray:
    """(N, 3, H, W) float32 model inputs, preprocessed exactly like inference."""
    from edgesal.predictors.torch_model import preprocess

    return np.concatenate([preprocess(s.image, spec.input_hw, spec.mean, spec.std).numpy() for s in samples])


@torch.inference_mode()
def torch_outputs(model: torch.nn.Module, inputs: np.ndarray) -> np.ndarray:
    """(N, 1, H, W) float32 torch fp32 outputs, one image at a time; for a stateful model the
    inputs are one clip, the state carried from frame to frame (as ``RuntimeSession.run`` does)."""
    from edgesal.models.temporal import is_stateful

    if not is_stateful(model):
        return np.concatenate([model(torch.from_numpy(x[None])).numpy() for x in inputs]).astype(np.float32)
    outputs, state = [], model.initial_state(tuple(inputs.shape[-2:]))[0]
    for x in inputs:
        out, state = model(torch.from_numpy(x[None]), state)
        outputs.append(out.numpy())
    return np.concatenate(outputs).astype(np.float32)


def load_clip_samples(data: str, n: int) -> tuple[list[ParitySample], str]:
    """The first ``n`` frames of a video dataset's clips, in order (parity of a stateful model
    over a clip, state carried)."""
    from edgesal.video.datasets import open_video_dataset

    dataset = open_video_dataset(data)
    samples: list[ParitySample] = []
    for video in dataset.videos():
        for s in dataset.frames(video):
            samples.append(ParitySample(s.stem, s.image, s.fixation_map()))
            if len(samples) >= n:
                return samples, f"{data} (video), first {n} frames in order"
    if not samples:
        raise EdgesalError(f"no frames in video dataset {data}")
    return samples, f"{data} (video), first {len(samples)} frames in order"


def to_saliency(output: np.ndarray, output_kind: str) -> np.ndarray:
    """(1, H, W) or (H, W) model output → non-negative (H, W) float64 saliency map."""
    out = np.asarray(output, dtype=np.float64).reshape(output.shape[-2:])
    if output_kind == "log_density":
        return np.exp(out - out.max())
    return 1.0 / (1.0 + np.exp(-out))


def compare(reference: np.ndarray, exported: np.ndarray, output_kind: str, samples: list[ParitySample],
            thresholds: ParityThresholds, source: str = "") -> ParityReport:
    """Saliency-level comparison of exported vs torch outputs (both (N, 1, H, W))."""
    ccs, kls, aucs, nsss = [], [], [], []
    for ref, exp, sample in zip(reference, exported, samples):
        a, b = to_saliency(ref, output_kind), to_saliency(exp, output_kind)
        ccs.append(cc(b, a))
        kls.append(kld(b, a))
        if sample.fixation_map is not None and sample.fixation_map.any():
            aucs.append((auc_judd(a, sample.fixation_map), auc_judd(b, sample.fixation_map)))
            nsss.append((nss(a, sample.fixation_map), nss(b, sample.fixation_map)))
    report = ParityReport(
        images=len(ccs), source=source, cc=float(np.mean(ccs)), cc_min=float(np.min(ccs)), kl=float(np.mean(kls)),
        max_abs_diff=float(np.abs(reference - exported).max()), thresholds=asdict(thresholds),
    )
    if aucs:
        auc = np.mean(aucs, axis=0)
        ns = np.mean(nsss, axis=0)
        report.auc_torch, report.auc_artefact, report.dauc = float(auc[0]), float(auc[1]), float(abs(auc[1] - auc[0]))
        report.nss_torch, report.nss_artefact, report.dnss = float(ns[0]), float(ns[1]), float(abs(ns[1] - ns[0]))
    checks = [
        (not np.isfinite(exported).all(), "non-finite outputs"),
        (not report.cc >= thresholds.min_cc, f"CC {report.cc:.4f} < {thresholds.min_cc}"),
        (not report.kl <= thresholds.max_kl, f"KL {report.kl:.4f} > {thresholds.max_kl}"),
        (report.dauc is not None and report.dauc > thresholds.max_dauc,
         f"|ΔAUC-Judd| {report.dauc or 0:.4f} > {thresholds.max_dauc}"),
        (report.dnss is not None and report.dnss > thresholds.max_dnss,
         f"|ΔNSS| {report.dnss or 0:.4f} > {thresholds.max_dnss}"),
    ]
    report.failures = [message for failed, message in checks if failed]
    return report
