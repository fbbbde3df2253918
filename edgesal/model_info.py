"""Facts about a model: params, FLOPs at an input size, preprocessing, output kind, source."""

from __future__ import annotations

import torch

from edgesal.errors import EdgesalError
from edgesal.models.factory import create_model, model_source
from edgesal.models.flops import count_flops, count_params


def check_input_hw(model: torch.nn.Module, name: str, input_hw: tuple[int, int]) -> tuple[int, int]:
    """``input_hw`` if ``model`` runs at that size (a forward pass on zeros); else a one-line error."""
    try:
        with torch.inference_mode():
            model(torch.zeros(1, 3, *input_hw))
    except RuntimeError as exc:
        strides = getattr(getattr(model, "backbone", None), "feature_strides", None)
        need = (f"height and width must be multiples of {max(strides)}" if strides
                else str(exc).strip().splitlines()[0])
        raise EdgesalError(f"--imgsz {input_hw[0]} {input_hw[1]}: {name} cannot run at this input size "
                           f"({need})") from None
    return tuple(input_hw)


def model_info(name_or_path: str, input_hw: tuple[int, int] | None = None) -> dict:
    """Params, FLOPs (paper formula) at ``input_hw`` (default: the model's), and metadata."""
    source = model_source(name_or_path)
    if source is None or not source.is_torch:
        from edgesal.predictors import load_predictor

        predictor = load_predictor(name_or_path)
        return {"name": name_or_path, **predictor.describe()}
    loaded = create_model(name_or_path)
    model, spec, meta = loaded.model, loaded.spec, loaded.meta
    hw = check_input_hw(model, spec.name, input_hw) if input_hw else spec.input_hw
    report = count_flops(model, (1, 3, *hw))
    return {
        "name": meta.get("name", spec.name),
        "architecture": spec.name,
        **({"temporal_cell": spec.temporal} if spec.temporal else {}),  # frame by frame, explicit state
        "params": count_params(model),
        "flops": report.total_flops,
        "gflops": round(report.total_flops / 1e9, 4),
        "input_hw": list(hw),
        "trained_input_hw": list(spec.input_hw),
        "mean": list(spec.mean),
        "std": list(spec.std),
        "input_range": "RGB in [0,1], then (x - mean) / std",
        "output_kind": spec.output_kind,
        "source": meta.get("path"),
        "sha256": meta.get("sha256"),
        "description": spec.description,
    }
