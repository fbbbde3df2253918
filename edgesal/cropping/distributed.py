"""``edgesal crop`` on a cluster with Ray Data (optional extra: ``pip install "edgesal[ray]"``).

The same plan, crop files and ``crops.json`` as :func:`edgesal.cropping.run.crop_paths`, but
the images are mapped over a Ray Dataset: each of ``concurrency`` actors loads the model once
and, per image, decodes it, predicts the map, searches the crops and writes them (atomically)
to ``out``. ``out`` must therefore be a folder every worker can write (a shared file system);
the driver plans the outputs first (same checks as a local run) and writes ``crops.json`` last,
in the plan's order. Ray is used as it is found: an initialised connection, else
``ray.init()`` (which joins the cluster in ``RAY_ADDRESS``, or starts a local one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from edgesal.atomic import write_json
from edgesal.cropping.aspect import Aspect, parse_aspect
from edgesal.cropping.run import CropRun, check_options, crops_of, output_names, write_crops
from edgesal.errors import EdgesalError
from edgesal.prediction import plan_files


class RayCropper:
    """A Ray actor body: the model loaded once; ``__call__`` crops one planned image (a row)."""

    def __init__(self, model: str, aspects: list[str], method: str, zoom: float, fmt: str, num_threads: int) -> None:
        from edgesal.predictors import load_predictor

        self.predictor = load_predictor(model, num_threads=num_threads)
        self.aspects = [parse_aspect(a) for a in aspects]
        self.method, self.zoom, self.fmt = method, zoom, fmt

    def __call__(self, row: dict) -> dict:
        from edgesal.data.images import load_rgb

        try:
            image = load_rgb(row["path"])
            crops = crops_of(image, self.predictor, self.aspects, self.method, self.zoom)
        except EdgesalError as exc:
            return {"path": row["path"], "records": "[]", "error": str(exc)}
        write_crops(image, crops, [Path(t) for t in row["targets"]], self.fmt)
        return {"path": row["path"], "records": json.dumps([c.record(row["name"]) for c in crops]), "error": ""}


def _ray():
    try:
        import ray
    except ImportError:
        raise EdgesalError('Ray is not installed: pip install "edgesal[ray]"') from None
    if not ray.is_initialized():
        ray.init(log_to_driver=False)
    return ray


def crop_paths_ray(sources: str | Path | list[str | Path], out: str | Path, aspects: Iterable[str | Aspect],
                   model: str = "default", method: str = "saliency", zoom: float = 1.0, fmt: str = "png",
                   concurrency: int = 1, num_threads: int = 1) -> CropRun:
    """Crop every image of ``sources`` on Ray; the same files and ``out/crops.json`` as a local run."""
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    parsed = check_options(aspects, method, zoom, fmt)
    plan = plan_files(sources, out, lambda rel: output_names(rel, parsed, fmt, False), command="crop")
    root = Path(out).resolve()
    rows = [{"path": str(path), "name": (targets[0].relative_to(root).parent / path.name).as_posix(),
             "targets": [str(t) for t in targets]} for path, targets in plan]
    ray = _ray()
    kwargs = {"model": model, "aspects": [a.text for a in parsed], "method": method, "zoom": zoom, "fmt": fmt,
              "num_threads": num_threads}
    results = ray.data.from_items(rows).map(RayCropper, fn_constructor_kwargs=kwargs,
                                            concurrency=concurrency).take_all()
    by_path = {r["path"]: r for r in results}
    run = CropRun()
    for path, targets in plan:
        result = by_path[str(path)]
        if result["error"]:
            run.skipped.append((path, result["error"]))
            continue
        run.records.extend(json.loads(result["records"]))
        run.written.extend(targets)
    if run.written:
        write_json(root / "crops.json", run.records)
    return run
