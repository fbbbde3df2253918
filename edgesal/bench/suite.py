"""``run_benchmark``: export a model to every target × precision, validate, score, time — one table.

Like Ultralytics' ``yolo benchmark``: each row of the format table
(:data:`edgesal.runtimes.formats.EXPORT_FORMATS`) × each requested precision it supports is
exported by the export pipeline (its parity gate is the validation), scored on a dataset split
when one is given, and every artefact — plus the torch model as the reference — is timed in
**one** interleaved run of the bench harness. Status per row (:data:`SYMBOLS`): ✅ passed the
parity gate, ❎ exported but failed the gate (it was written as ``.failed``; still timed and
scored, never published), ❌ failed to export (the one-line reason is kept).

An artefact already in the output folder is reused, not re-exported, when it is current: it
passed the gate (:func:`edgesal.bench.parity_status.export_parity`) and its sidecar names the
same checkpoint sha256, precision, target options, calibration folder (int8), parity thresholds and
edgesal version.
Earlier good artefacts are never removed (the export pipeline publishes only what passes).
"""

from __future__ import annotations

import datetime as _dt
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgesal import __version__
from edgesal.bench.parity_status import export_parity
from edgesal.bench.suite_report import SYMBOLS, build_rows
from edgesal.errors import EdgesalError
from edgesal.export.report import FAILED_SUFFIX

SCHEMA = "edgesal-benchmark/1"
DEFAULT_PRECISIONS = ("fp32", "int8")


@dataclass
class BenchmarkRequest:
    """What ``edgesal benchmark`` asks for (defaults = the CLI's)."""

    model: str = "default"
    targets: tuple[str, ...] = ()  # empty: every target of the format table
    precisions: tuple[str, ...] = DEFAULT_PRECISIONS
    out: str | None = None  # default: runs/benchmark/<model>
    data: str | None = None  # dataset to score (name or folder); None: no accuracy columns
    split: str | None = None
    limit: int | None = None
    threads: int = 1
    runs: int = 50
    warmup: int = 10
    calib: str | None = None
    parity_data: str | None = "osie"
    parity_images: int = 20
    thresholds: dict = field(default_factory=dict)  # min_cc / max_kl / max_dauc / max_dnss overrides
    options: list[str] = field(default_factory=list)  # NAME=VALUE target options
    reuse: bool = True


@dataclass
class Job:
    """One target × precision of the run and what became of it."""

    target: str
    precision: str
    options: dict
    pairs: list[str]  # the --opt pairs of this target
    artefact: str = ""  # final loadable path (or the .failed one)
    status: str = "failed_export"
    reason: str = ""
    reused: bool = False
    export_s: float | None = None
    size_mb: float | None = None
    parity: dict | None = None

    @property
    def loadable(self) -> bool:
        return self.status in ("passed", "failed_validation")


def default_out(model: str) -> Path:
    """``runs/benchmark/<model>`` (a checkpoint path gives its file stem)."""
    return Path("runs/benchmark") / (Path(model).stem if model.endswith(".pt") else model)


def _pairs_for(fmt, pairs: list[str]) -> list[str]:
    names = {o.name for o in fmt.options}
    return [p for p in pairs if p.split("=", 1)[0].strip().lower() in names]


def plan_jobs(request: BenchmarkRequest) -> list[Job]:
    """Validated target × precision jobs (unsupported precisions of a target are left out)."""
    from edgesal.export.formats import EXPORT_FORMATS, PRECISIONS, get_format, parse_options
    from edgesal.runtimes.formats import closest

    formats = [get_format(t) for t in (request.targets or tuple(EXPORT_FORMATS))]
    for p in request.precisions:
        if p not in PRECISIONS:
            raise EdgesalError(f"unknown precision {p!r}{closest(p, PRECISIONS)} (precisions: {', '.join(PRECISIONS)})")
    known = {o.name for f in formats for o in f.options}
    for pair in request.options:
        name = pair.split("=", 1)[0].strip().lower()
        if "=" not in pair or name not in known:
            raise EdgesalError(f"option {pair!r} is not NAME=VALUE for a benchmarked target"
                               f"{closest(name, known)} (options: {', '.join(sorted(known)) or 'none'})")
    jobs = []
    for fmt in formats:
        pairs = _pairs_for(fmt, request.options)
        options = parse_options(fmt, pairs)
        jobs += [Job(fmt.name, p, options, pairs) for p in request.precisions if p in fmt.precisions]
    if not jobs:
        raise EdgesalError(f"no target supports precision(s) {', '.join(request.precisions)}")
    return jobs


def _thresholds(request: BenchmarkRequest, precision: str) -> dict:
    from edgesal.export.parity import DEFAULT_THRESHOLDS

    return asdict(DEFAULT_THRESHOLDS[precision].override(**request.thresholds))


def _artefact_path(out: Path, name: str, job: Job) -> Path:
    from edgesal.export.formats import get_format

    return out / get_format(job.target).artefact_name(f"{name}_{job.precision}", job.options)


def _size_mb(path: Path) -> float:
    root = path.parent if path.parent.name.endswith(("_openvino", "_openvino" + FAILED_SUFFIX)) else path
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else [root]
    return round(sum(p.stat().st_size for p in files) / 2**20, 3)


def _same_calibration(meta: dict, calib: str | None) -> bool:
    """An int8 artefact was calibrated on ``calib`` (default: the shipped set); fp32 needs none."""
    from edgesal.export.calibration import default_calibration_dir

    used = (meta.get("calibration") or {}).get("source")
    if meta.get("precision") != "int8":
        return used is None
    try:
        wanted = Path(calib) if calib else default_calibration_dir()
    except EdgesalError:
        return False
    return used is not None and Path(used).resolve() == wanted.resolve()


def current_artefact(path: Path, job: Job, sha256: str | None, thresholds: dict, calib: str | None) -> bool:
    """``path`` passed the gate and was built from the same checkpoint, options, calibration set,
    thresholds and edgesal version."""
    import json

    from edgesal.export.metadata import sidecar_path

    status = export_parity(path)
    if not (status.passed and path.exists() and sha256):
        return False
    meta = json.loads(sidecar_path(path).read_text())
    return (meta.get("source_sha256") == sha256 and meta.get("precision") == job.precision
            and meta.get("options") == job.options and meta.get("edgesal_version") == __version__
            and (status.parity or {}).get("thresholds") == thresholds and _same_calibration(meta, calib))


def _export(request: BenchmarkRequest, out: Path, job: Job) -> Path:
    """Run the export pipeline for one job; the loadable path (or the ``.failed`` root)."""
    from edgesal.export import ExportRequest, export_model

    [result] = export_model(ExportRequest(
        model=request.model, targets=(job.target,), precisions=(job.precision,), calib=request.calib,
        out=str(out), parity_images=request.parity_images, parity_data=request.parity_data,
        thresholds=request.thresholds, options=job.pairs, latency_runs=0))
    return Path(result.path)


def _failed_loadable(root: Path, final: Path) -> Path:
    """The loadable file of a ``.failed`` artefact (an OpenVINO folder holds its ``.xml``)."""
    return root / final.name if root.is_dir() else root


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if isinstance(exc, EdgesalError) else f"{type(exc).__name__}: {text}"[:300]


def build_artefact(request: BenchmarkRequest, out: Path, name: str, job: Job, sha256: str | None,
                   log: Callable[[str], None]) -> Job:
    """Reuse a current artefact or export it; fill in the job's status, reason, size and parity."""
    path = _artefact_path(out, name, job)
    if request.reuse and current_artefact(path, job, sha256, _thresholds(request, job.precision), request.calib):
        job.reused = True
        log(f"{job.target} {job.precision}: reusing {path} (current: same checkpoint, options, calibration, gate)")
    else:
        log(f"{job.target} {job.precision}: exporting …")
        start = time.perf_counter()
        try:
            path = _export(request, out, job)
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as exc:  # a converter that fails is a ❌ row, not the end of the run
            job.reason = one_line(exc)
            job.export_s = round(time.perf_counter() - start, 1)
            log(f"{job.target} {job.precision}: ❌ {job.reason}")
            return job
        job.export_s = round(time.perf_counter() - start, 1)
        if path.name.endswith(FAILED_SUFFIX):
            path = _failed_loadable(path, _artefact_path(out, name, job))
    status = export_parity(path)
    job.status = "passed" if status.passed else "failed_validation"
    job.reason = "" if status.passed else status.detail
    job.artefact, job.size_mb, job.parity = str(path), _size_mb(path), status.parity
    log(f"{job.target} {job.precision}: {SYMBOLS[job.status]} {status.detail}")
    return job


def _timeable(job: Job, tmp: Path) -> str:
    """A path a runtime opens: a single-file ``x.onnx.failed`` is copied to ``tmp/x.onnx`` (runtimes
    check the suffix of the resolved file, so a link will not do)."""
    path = Path(job.artefact)
    if not path.name.endswith(FAILED_SUFFIX):
        return str(path)
    return str(shutil.copy(path, tmp / path.name.removesuffix(FAILED_SUFFIX)))


def accuracy(request: BenchmarkRequest, model: str, log: Callable[[str], None]) -> dict | None:
    """Mean metrics of ``model`` (a name or file) on the requested split, or None without ``data``."""
    if request.data is None:
        return None
    from edgesal.evaluation import evaluate, predictor_source
    from edgesal.predictors import load_predictor

    log(f"scoring {Path(model).name} on {request.data} {request.split or '(default split)'}")
    try:  # the dataset was checked up front: a failure here is this artefact's, not the run's
        predictor = load_predictor(model, data=request.data, num_threads=request.threads)
        return evaluate(request.data, predictor_source(predictor), split=request.split,
                        limit=request.limit).to_json()
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:
        log(f"scoring {Path(model).name} failed: {one_line(exc)}")
        return {"error": one_line(exc)}


def time_all(request: BenchmarkRequest, models: list[str], log: Callable[[str], None]) -> dict:
    """One interleaved bench run of ``models`` (torch reference first) on this machine."""
    from edgesal.bench.harness import BenchRequest, run_bench

    return run_bench(BenchRequest(models=models, threads=[request.threads], runs=request.runs,
                                  warmup=request.warmup, parity=False, memory=False), log=log)


def _validate(request: BenchmarkRequest) -> tuple[list[Job], dict]:
    """Everything a user can get wrong, checked before any export: jobs, thresholds, calibration
    folder, dataset and split, model. Returns the jobs and the model's source facts."""
    from edgesal.models.factory import create_model

    if request.threads < 1 or request.runs < 1 or request.warmup < 0:
        raise EdgesalError("--threads and --runs must be ≥ 1 and --warmup ≥ 0")
    if request.limit is not None and request.limit < 1:
        raise EdgesalError(f"--limit must be at least 1, got {request.limit}")
    jobs = plan_jobs(request)
    for job in jobs:
        _thresholds(request, job.precision)  # impossible thresholds: one line now
    if request.calib is not None:
        from edgesal.export.calibration import list_calibration_images

        list_calibration_images(request.calib)
    if request.data is not None:
        from edgesal.evaluation import open_split

        open_split(request.data, request.split)
    loaded = create_model(request.model)
    return jobs, {**loaded.source, "input_hw": list(loaded.spec.input_hw), "arch": loaded.spec.name}


def export_all(request: BenchmarkRequest, log: Callable[[str], None]) -> tuple[list[Job], dict, Path]:
    """Validate, then reuse or export every job: (jobs with their status, model source facts, out folder)."""
    jobs, source = _validate(request)
    out = Path(request.out) if request.out else default_out(request.model)
    name = source.get("name") or source["arch"]
    for i, job in enumerate(jobs, 1):
        log(f"[{i}/{len(jobs)}] {job.target} {job.precision}")
        build_artefact(request, out, name, job, source.get("sha256"), log)
    return jobs, source, out


def run_benchmark(request: BenchmarkRequest, log: Callable[[str], None] | None = None) -> dict:
    """Export, validate, score and time ``request.model`` on every target × precision; the document."""
    log = log or (lambda msg: None)
    jobs, source, out = export_all(request, log)
    loadable = [j for j in jobs if j.loadable]
    with tempfile.TemporaryDirectory(prefix="edgesal-benchmark-") as tmp:
        paths = [_timeable(j, Path(tmp)) for j in loadable]
        metrics = {request.model: accuracy(request, request.model, log),
                   **{p: accuracy(request, p, log) for p in paths}}
        log(f"timing torch + {len(paths)} artefact(s) interleaved, {request.threads} thread(s)")
        timing = time_all(request, [request.model, *paths], log)
    rows = build_rows(jobs, loadable, timing, list(metrics.values()), source)
    return {"schema": SCHEMA, "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "edgesal_version": __version__, "model": request.model, "source": source, "out": str(out),
            "device": timing["device"],
            "config": {k: v for k, v in asdict(request).items() if k not in ("model", "out")},
            "rows": rows, "timing": timing}
