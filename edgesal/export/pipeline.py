"""``export_model``: convert → parity gate → metadata → publish, for targets × precisions.

Every artefact is built in a hidden staging folder inside ``out`` (removed however the run
ends); only after the parity gate does it move to its final name, or to ``<name>.failed``
when the gate fails, so an interrupted or failed export never leaves a half-written artefact
under a loadable name and never removes or replaces an earlier artefact that passed.
"""

from __future__ import annotations

import contextlib
import difflib
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch

from edgesal.errors import EdgesalError
from edgesal.export import metadata as md
from edgesal.export.calibration import (
    CalibrationSet,
    default_calibration_dir,
    list_calibration_images,
    load_calibration,
)
from edgesal.export.float_head import keeping_float, leading_modules
from edgesal.export.formats import (
    PRECISIONS,
    ExportFormat,
    check_precision,
    export_function,
    get_format,
    parse_options,
)
from edgesal.export.parity import (
    DEFAULT_THRESHOLDS,
    ParityReport,
    ParityThresholds,
    compare,
    load_clip_samples,
    load_parity_samples,
    preprocess_samples,
    torch_outputs,
)
from edgesal.export.progress import Progress, counted, note, reporting, reports_stages, stage
from edgesal.export.report import FAILED_SUFFIX
from edgesal.model_info import check_input_hw
from edgesal.models.factory import TorchModel, create_model
from edgesal.models.temporal import is_stateful
from edgesal.quiet import output_hidden
from edgesal.runtimes.timing import median_latency

#: targets whose converter exports a stateful model's state tensors (the others trace one input)
STATEFUL_TARGETS = ("onnx", "openvino", "tflite")
#: frames after which the state is reset when int8 calibration images are run as clips
CALIBRATION_CLIP = 8
#: int8 retries keep up to this many of the backbone's first modules float (stem, blocks.0, …)
MAX_FLOAT_FALLBACK = 6

# jax (imported by litert-torch) warns on every fork, e.g. by OpenVINO/NNCF helpers; harmless here
warnings.filterwarnings("ignore", message=r"os\.fork\(\) was called")


@dataclass
class ExportRequest:
    """What ``edgesal export`` asks for (defaults = the CLI's)."""

    model: str = "default"
    targets: tuple[str, ...] = ("onnx",)
    precisions: tuple[str, ...] = ("fp32",)
    calib: str | None = None
    imgsz: tuple[int, int] | None = None
    out: str = "runs/export"
    parity_images: int = 20
    parity_data: str | None = "osie"
    thresholds: dict = field(default_factory=dict)  # min_cc / max_kl / max_dauc / max_dnss overrides
    options: list[str] = field(default_factory=list)  # NAME=VALUE, validated per target
    debug_parity: bool = False
    latency_runs: int = 20
    calib_max_images: int | None = 300
    progress: bool = True  # one stderr line per stage with its time (edgesal.export.progress)


@dataclass
class ArtefactResult:
    target: str
    precision: str
    path: Path  # final loadable file, or the .failed path
    size_bytes: int
    parity: ParityReport
    latency_ms: float | None
    metadata: dict
    debug: list[dict] | None = None

    @property
    def passed(self) -> bool:
        return self.parity.passed

    def row(self) -> dict:
        p = self.parity
        return {"target": self.target, "precision": self.precision, "file": str(self.path),
                "size_mb": round(self.size_bytes / 2**20, 3), "cc": p.cc, "kl": p.kl, "dauc": p.dauc,
                "dnss": p.dnss, "latency_ms_1thread": self.latency_ms, "passed": self.passed,
                "failures": p.failures}


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _replace(source: Path, target: Path, trash: Path) -> None:
    """Move ``source`` onto ``target`` atomically; a folder already at ``target`` is moved into
    ``trash`` first (a folder cannot be renamed over a non-empty one)."""
    if source.is_dir() and target.is_dir():
        target.replace(trash / f"previous-{target.name}")
        try:
            source.replace(target)
        except OSError:
            (trash / f"previous-{target.name}").replace(target)  # put the earlier artefact back
            raise
        return
    source.replace(target)


def _publish(staged_root: Path, final_root: Path, passed: bool, trash: Path) -> Path:
    """Move the staged artefact (file or folder, with sidecars) to its final or ``.failed`` name.

    A failed artefact only replaces an older ``.failed``: the earlier good artefact of the same
    name and its sidecars stay. A passing one replaces the earlier artefact, sidecars first and
    the loadable file last (each an atomic rename), and removes a stale ``.failed``. ``trash``
    is a folder in the staging area for what is replaced. Returns the new root path.
    """
    failed_root = final_root.with_name(final_root.name + FAILED_SUFFIX)
    if not passed:
        _replace(staged_root, failed_root, trash)
        return failed_root
    for side, final_side in ((md.sidecar_path(staged_root), md.sidecar_path(final_root)),
                             (md.ref_path(staged_root), md.ref_path(final_root))):
        if side.exists():  # single-file artefacts keep their sidecars beside them
            side.replace(final_side)
    _replace(staged_root, final_root, trash)
    _remove(failed_root)
    return final_root


def _resolve_model(request: ExportRequest) -> TorchModel:
    """The model to export (``--imgsz`` checked by a forward pass); one-line error otherwise."""
    loaded = create_model(request.model)
    if request.imgsz:
        spec = loaded.spec.with_input_hw(check_input_hw(loaded.model, loaded.spec.name, tuple(request.imgsz)))
        loaded = TorchModel(loaded.model, spec, loaded.meta)
    return loaded


def _stem(name: str, spec, precision: str, imgsz) -> str:
    size = f"_{spec.input_hw[0]}x{spec.input_hw[1]}" if imgsz else ""
    return f"{name}{size}_{precision}"


@dataclass
class ExportContext:
    """Everything the artefacts of one run share: the model, calibration and parity data."""

    model: object
    spec: object
    source: dict  # name, path, sha256 of the checkpoint; imgsz if overridden
    calibration: CalibrationSet | None
    samples: list
    parity_source: str
    inputs: np.ndarray  # (N, 3, H, W) preprocessed parity images
    reference: np.ndarray  # (N, 1, H, W) torch fp32 outputs
    out_dir: Path
    latency_runs: int = 20
    debug_parity: bool = False
    progress: bool = True


def _convert(ctx: ExportContext, fmt: ExportFormat, precision: str, options: dict, staged: Path) -> None:
    """Run the target's converter (C++ stderr hidden when hushed); a converter that does not
    report its own stages is one stage."""
    convert = export_function(fmt.converter)
    calibration = ctx.calibration if precision == "int8" else None
    if calibration is not None:  # converters iterate the batches: count them for the progress line
        calibration = CalibrationSet(counted(calibration.batches), calibration.paths, calibration.skipped,
                                     calibration.source)
    outer = (contextlib.nullcontext() if reports_stages(convert) else
             stage("convert + quantise" if calibration else "convert", len(calibration) if calibration else None))
    with outer, output_hidden():
        convert(ctx.model, ctx.spec, precision, calibration, staged, options)


def _gate(ctx: ExportContext, staged: Path, thresholds: ParityThresholds):
    """Parity (and latency) of the staged artefact in its runtime → (parity, latency, session)."""
    from edgesal.runtimes import load_runtime

    with stage(f"parity {len(ctx.inputs)} images"), output_hidden():
        session = load_runtime(staged, num_threads=1)
        parity = compare(ctx.reference, session.run(ctx.inputs), ctx.spec.output_kind, ctx.samples, thresholds,
                         ctx.parity_source)
    latency = None
    if ctx.latency_runs:
        with stage(f"latency {ctx.latency_runs} runs"), output_hidden():
            latency = median_latency(partial(session.run, ctx.inputs[:1]), runs=ctx.latency_runs)
    return parity, latency, session


def _convert_and_gate(ctx: ExportContext, fmt: ExportFormat, precision: str, options: dict, staged: Path,
                      staged_root: Path, thresholds: ParityThresholds):
    """Convert and gate → (parity, latency, session, extra float modules). An int8 artefact that
    fails parity is converted again with the backbone's first 1, 2, … modules kept float
    (:func:`~edgesal.export.float_head.leading_modules`), until it passes or
    ``MAX_FLOAT_FALLBACK`` modules are float; the last attempt is the result."""
    _convert(ctx, fmt, precision, options, staged)
    parity, latency, session = _gate(ctx, staged, thresholds)
    kept: list[str] = []
    candidates = leading_modules(ctx.model, MAX_FLOAT_FALLBACK) if precision == "int8" else []
    for count in range(1, len(candidates) + 1):
        if parity.passed:
            break
        kept = candidates[:count]
        del session
        _remove(staged_root)  # the failed attempt (a file, or a folder with its weights)
        note(f"parity failed ({'; '.join(parity.failures)}); retry keeping {kept[-1]} and the layers before it float")
        with keeping_float(kept):
            _convert(ctx, fmt, precision, options, staged)
            parity, latency, session = _gate(ctx, staged, thresholds)
    return parity, latency, session, kept


def export_artefact(ctx: ExportContext, fmt: ExportFormat, precision: str, options: dict,
                    thresholds: ParityThresholds) -> ArtefactResult:
    """Build, gate and publish one artefact (one progress line per stage, labelled ``[target precision]``)."""
    progress = Progress(f"{fmt.name} {precision}", enabled=ctx.progress)
    try:
        with reporting(progress):
            return _build_artefact(ctx, fmt, precision, options, thresholds)
    finally:
        progress.close()


def _build_artefact(ctx: ExportContext, fmt: ExportFormat, precision: str, options: dict,
                    thresholds: ParityThresholds) -> ArtefactResult:
    spec = ctx.spec
    name = ctx.source.get("name") or spec.name
    loadable_rel = fmt.artefact_name(_stem(name, spec, precision, ctx.source.get("imgsz")), options)
    final_root = ctx.out_dir / loadable_rel.split("/")[0]
    calibration = ctx.calibration if precision == "int8" else None
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ctx.out_dir, prefix=".staging-") as tmp:
        staged = Path(tmp) / loadable_rel
        parity, latency, session, kept = _convert_and_gate(ctx, fmt, precision, options, staged,
                                                           Path(tmp) / final_root.name, thresholds)
        with keeping_float(kept):
            meta = md.build_metadata(name=name, spec=spec, source=ctx.source, target=fmt.name, precision=precision,
                                     options=options, session=session, calibration=calibration, parity=parity)
        if session.stateful:
            meta["state"] = session.describe()["state"]
        del session
        debug = None
        if ctx.debug_parity:
            from edgesal.export.debug_parity import locate_divergence

            with stage("debug parity"), output_hidden():
                debug = locate_divergence(ctx.model, spec, staged, ctx.inputs[:1], thresholds.min_cc)
        with stage("publish" if parity.passed else "publish (parity failed)"):
            md.write_metadata(staged, meta)
            if parity.passed:
                md.write_sidecar(staged, meta)
                md.write_reference(staged, ctx.inputs, ctx.reference, spec.output_kind)
            root = _publish(Path(tmp) / final_root.name, final_root, parity.passed, Path(tmp))
    path = ctx.out_dir / loadable_rel if parity.passed else root
    return ArtefactResult(fmt.name, precision, path, _size(root), parity, latency, meta, debug)


def _plan(request: ExportRequest) -> list[tuple[ExportFormat, str, dict]]:
    """Validated (format, precision, options) jobs; nothing is loaded yet."""
    jobs = []
    formats = [get_format(t) for t in request.targets]
    _check_option_names(formats, request.options)
    for fmt in formats:
        options = parse_options(fmt, _options_for(fmt, request.options))
        for precision in request.precisions:
            if len(formats) > 1 and precision in PRECISIONS and precision not in fmt.precisions:
                warnings.warn(f"skipping {fmt.name} {precision}: {fmt.name} supports {', '.join(fmt.precisions)}",
                              stacklevel=3)
                continue
            jobs.append((fmt, check_precision(fmt, precision), options))
    return jobs


def _fallback_images(calibration: CalibrationSet | None, calib_dir: Path | None) -> list[Path]:
    """Parity images to use when the parity dataset is unavailable ([] if none)."""
    if calibration is not None:
        return calibration.paths
    try:
        return list_calibration_images(calib_dir or default_calibration_dir())
    except EdgesalError:
        return []


def check_stateful_targets(model, jobs: list[tuple[ExportFormat, str, dict]]) -> None:
    """A stateful model exports only to targets that keep its state tensors."""
    if not is_stateful(model):
        return
    for fmt, _, _ in jobs:
        if fmt.name not in STATEFUL_TARGETS:
            raise EdgesalError(f"{fmt.name} export of a stateful (temporal) model is not supported yet: its converter "
                               f"traces one input (targets with state tensors: {', '.join(STATEFUL_TARGETS)})")


@torch.inference_mode()
def stateful_calibration(model, calibration: CalibrationSet) -> CalibrationSet:
    """Calibration inputs of a stateful model: each image with the state the model carries into it
    (images run as clips of :data:`CALIBRATION_CLIP`), as dicts of named inputs."""
    batches, state = [], None
    for i, batch in enumerate(calibration.batches):
        x = torch.from_numpy(batch)
        if i % CALIBRATION_CLIP == 0:
            state = model.initial_state(tuple(x.shape[-2:]))[0]
        batches.append({"input": batch, model.state_names[0]: state.numpy()})
        state = model(x, state)[1]
    return CalibrationSet(batches, calibration.paths, calibration.skipped, calibration.source)


def _parity_samples(request: ExportRequest, model, fallback: list[Path]) -> tuple[list, str]:
    """Parity images; for a stateful model a video dataset's frames (one clip, state carried) when
    ``--parity-data`` names one."""
    if is_stateful(model) and request.parity_data:
        import edgesal.video.datasets  # noqa: F401  (video formats register themselves)
        from edgesal.data.registry import dataset_kind

        if dataset_kind(request.parity_data) == "video":
            return load_clip_samples(request.parity_data, request.parity_images)
    return load_parity_samples(request.parity_data, request.parity_images, fallback)


def _context(request: ExportRequest, jobs: list) -> ExportContext:
    """Load the model, the calibration set and the parity data and reference (one stage each)."""
    calib_dir = Path(request.calib) if request.calib else None
    if calib_dir is not None:
        list_calibration_images(calib_dir)  # fail fast on a missing / empty folder
    with stage("load model"):
        loaded = _resolve_model(request)
    model, spec, source = loaded.model, loaded.spec, loaded.meta
    check_stateful_targets(model, jobs)
    calibration = (load_calibration(calib_dir, spec.input_hw, spec.mean, spec.std, request.calib_max_images)
                   if any(p == "int8" for _, p, _ in jobs) else None)  # its own stage, counting images
    with stage("parity reference (torch)"):
        samples, parity_source = _parity_samples(request, model, _fallback_images(calibration, calib_dir))
        if calibration is not None and is_stateful(model):
            calibration = stateful_calibration(model, calibration)
        inputs = preprocess_samples(samples, spec)
        reference = torch_outputs(model, inputs)
    return ExportContext(model, spec, {**source, "imgsz": request.imgsz}, calibration, samples, parity_source,
                         inputs, reference, Path(request.out), request.latency_runs, request.debug_parity,
                         request.progress)


def export_model(request: ExportRequest) -> list[ArtefactResult]:
    """Export ``request.model`` to every requested target × precision; write the reports.

    With ``request.progress`` each stage prints one line with its time on stderr: the shared
    ones labelled with the model, then each artefact's (convert, calibrate, quantise, parity,
    latency, publish) labelled ``[target precision]``.
    """
    jobs = _plan(request)
    thresholds = {p: DEFAULT_THRESHOLDS[p].override(**request.thresholds) for _, p, _ in jobs}  # checked now
    progress = Progress(Path(request.model).name or request.model, enabled=request.progress)
    try:
        with reporting(progress):
            ctx = _context(request, jobs)
    finally:
        progress.close()
    results = [export_artefact(ctx, fmt, precision, options, thresholds[precision])
               for fmt, precision, options in jobs]
    from edgesal.export.report import write_reports

    write_reports(ctx.out_dir, request, ctx.source, results)
    return results


def _option_name(pair: str) -> str:
    if "=" not in pair:
        raise EdgesalError(f"option {pair!r} is not NAME=VALUE")
    return pair.split("=", 1)[0].strip().lower()


def _check_option_names(formats: list[ExportFormat], pairs: list[str]) -> None:
    """Every ``--opt`` must belong to at least one requested target."""
    known = {o.name for f in formats for o in f.options}
    for pair in pairs:
        if _option_name(pair) not in known:
            hint = difflib.get_close_matches(_option_name(pair), list(known), n=1)
            names = ", ".join(f.name for f in formats)
            listing = f"; did you mean {hint[0]!r}?" if hint else f" (options: {', '.join(known) or 'none'})"
            raise EdgesalError(f"unknown option {_option_name(pair)!r} for {names}{listing}")


def _options_for(fmt: ExportFormat, pairs: list[str]) -> list[str]:
    """``--opt`` pairs that apply to ``fmt`` (with several targets, each takes its own)."""
    names = {o.name for o in fmt.options}
    return [p for p in pairs if _option_name(p) in names]
