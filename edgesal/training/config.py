"""Training configuration: a dataclass filled from a TOML/JSON file and/or CLI flags."""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from edgesal.errors import EdgesalError


@dataclass
class TrainConfig:
    model: str = "fastsal_a_mnv2_readout"
    train: list[str] = field(default_factory=lambda: ["osie:train", "scene:train"])
    val: list[str] = field(default_factory=lambda: ["osie:val"])
    teacher_cache: str | None = None  # folder filled by `edgesal pseudolabel`; A+B: ensemble of caches
    loss: str | None = None  # default: theis (log-density) or fastsal_bce (sigmoid)
    input_hw: tuple[int, int] | None = None  # default: the architecture's
    epochs: int = 10
    batch: int = 16
    optimizer: str = "adam"  # adam | sgd
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 1e-5
    schedule: str = "cosine"  # cosine | step | constant
    val_every: int = 50  # steps
    patience: int = 5  # validations without improvement before stopping
    early_stop_from: float = 0.0  # stop only on a patience window after this fraction of the planned steps
    seed: int = 0
    pretrained_backbone: bool = True
    out: str = "runs/train"
    cache_dir: str = "runs/cache"
    hflip: bool = True
    max_steps: int | None = None
    threads: int | None = None
    init: str | None = None  # start from this checkpoint (e.g. a pruned model) instead of the architecture
    hint_teacher: str | None = None  # model (name, .pt, .onnx, .tflite) whose features the student mimics first
    hint_steps: int = 0
    hint_tensors: list[str] | None = None  # intermediate tensors of an exported (.onnx/.tflite) hint teacher
    distill: str | None = None  # feature distillation term during training: stats (Zhang et al.) | hint
    distill_teacher: str | None = None  # edgesal model (name or .pt) whose backbone features are distilled
    distill_weight: float = 1.0  # weight of the distillation term next to the task loss
    feature_layers: list[int] | None = None  # student backbone levels (0-3) paired with teacher features
    data_kind: str = "images"  # images | clips (video datasets, for temporal students; edgesal.training.data)
    clip_frames: int = 8  # clips: frames per training window (the unrolled length)
    teacher: str | None = None  # clips: predictor whose per-frame maps are cached as pseudo-labels
    teacher_smooth: float = 0.5  # clips: EMA weight of the newest frame in the temporal teacher
    clips_per_source: int | None = None  # clips: use only the first N clips of each source
    temporal: str | None = None  # add this temporal cell (e.g. gru_lite) to `model` or to an image `init` checkpoint

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        path = Path(path)
        if not path.is_file():
            raise EdgesalError(f"config file not found: {path}")
        try:
            text = path.read_text(encoding="utf-8")
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EdgesalError(f"cannot parse config {path}: {exc}") from None
        if not isinstance(data, dict):
            raise EdgesalError(f"config {path} must be a table of options (key = value), "
                               f"not a {type(data).__name__}")
        return cls().updated(data, origin=str(path))

    def updated(self, values: dict, origin: str = "flags") -> TrainConfig:
        names = {f.name for f in fields(self)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise EdgesalError(f"unknown training option(s) in {origin}: {', '.join(unknown)}")
        data = {**asdict(self), **{k: v for k, v in values.items() if v is not None}}
        for name, value in data.items():
            data[name] = _checked(name, value, origin)
        return TrainConfig(**data)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_hw"] = list(self.input_hw) if self.input_hw else None
        return d


#: option → (kind, minimum): what a config file or flag may set (None: any value of the kind)
_RULES: dict[str, tuple[str, float | None]] = {
    "epochs": ("int", 1), "batch": ("int", 1), "val_every": ("int", 1), "patience": ("int", 1),
    "seed": ("int", 0), "max_steps": ("int", 1), "threads": ("int", 1), "hint_steps": ("int", 0),
    "lr": ("float>0", None), "momentum": ("float", 0), "weight_decay": ("float", 0),
    "train": ("strings", None), "val": ("strings", None), "pretrained_backbone": ("bool", None),
    "hflip": ("bool", None), "optimizer": ("choice:adam,sgd", None),
    "schedule": ("choice:cosine,step,constant", None), "input_hw": ("size", None),
    "data_kind": ("choice:images,clips", None), "clip_frames": ("int", 1), "clips_per_source": ("int", 1),
    "teacher_smooth": ("float(0,1]", None), "early_stop_from": ("float[0,1)", None),
    "hint_tensors": ("names", None), "distill": ("choice:stats,hint", None), "distill_weight": ("float>0", None),
    "feature_layers": ("levels", None),
}


def _checked(name: str, value, origin: str):
    """``value`` converted to what option ``name`` takes, or a one-line error naming both."""
    kind, minimum = _RULES.get(name, ("str", None))
    if value is None:
        return None
    bad = EdgesalError(f"training option {name} in {origin} must be {_describe(kind, minimum)}, got {value!r}")
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise bad
    elif kind.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad
        if (kind == "float>0" and value <= 0) or (minimum is not None and value < minimum):
            raise bad
        if kind == "float(0,1]" and not 0 < value <= 1:
            raise bad
        if kind == "float[0,1)" and not 0 <= value < 1:
            raise bad
        value = float(value)
    elif kind == "bool" and not isinstance(value, bool):
        raise bad
    elif kind in ("strings", "names"):
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
            raise bad
        value = list(value)
    elif kind == "levels":
        if (not isinstance(value, (list, tuple)) or not value
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
            raise bad
        value = list(value)
    elif kind.startswith("choice:") and value not in kind[7:].split(","):
        raise bad
    elif kind == "size":
        if (not isinstance(value, (list, tuple)) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 32 for v in value)):
            raise bad
        value = tuple(value)
    elif kind == "str" and not isinstance(value, str):
        raise bad
    return value


def _describe(kind: str, minimum: float | None) -> str:
    if kind == "int":
        return f"an integer ≥ {minimum:g}"
    if kind == "float>0":
        return "a number > 0"
    if kind == "float(0,1]":
        return "a number in (0, 1]"
    if kind == "float[0,1)":
        return "a number in [0, 1)"
    if kind == "float":
        return f"a number ≥ {minimum:g}"
    if kind.startswith("choice:"):
        return "one of " + ", ".join(kind[7:].split(","))
    return {"bool": "true or false", "strings": "a list of source names", "size": "[height, width], each ≥ 32",
            "str": "a string", "names": "a list of tensor names",
            "levels": "a list of backbone levels (integers ≥ 0)"}[kind]
