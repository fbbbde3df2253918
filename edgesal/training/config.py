"""Training configuration: a dataclass filled from a TOML/JSON file and/or CLI flags."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from edgesal.errors import EdgesalError


@dataclass
class TrainConfig:
    model: str = "fastsal_a_mnv2_readout"
    train: list[str] = field(default_factory=lambda: ["osie:train", "scene:train"])
    val: list[str] = field(default_factory=lambda: ["osie:val"])
    teacher_cache: str | None = None  # folder filled by `edgesal pseudolabel`
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
    seed: int = 0
    pretrained_backbone: bool = True
    out: str = "runs/train"
    cache_dir: str = "runs/cache"
    hflip: bool = True
    max_steps: int | None = None
    threads: int | None = None
    init: str | None = None  # start from this checkpoint (e.g. a pruned model) instead of the architecture
    hint_teacher: str | None = None  # edgesal .pt whose backbone features the student mimics first
    hint_steps: int = 0

    @classmethod
    def from_file(cls, path: str | Path) -> "TrainConfig":
        path = Path(path)
        if not path.is_file():
            raise EdgesalError(f"config file not found: {path}")
        try:
            data = tomllib.loads(path.read_text()) if path.suffix == ".toml" else json.loads(path.read_text())
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise EdgesalError(f"cannot parse config {path}: {exc}") from None
        return cls().updated(data, origin=str(path))

    def updated(self, values: dict, origin: str = "flags") -> "TrainConfig":
        names = {f.name for f in fields(self)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise EdgesalError(f"unknown training option(s) in {origin}: {', '.join(unknown)}")
        data = {**asdict(self), **{k: v for k, v in values.items() if v is not None}}
        if data.get("input_hw") is not None:
            data["input_hw"] = tuple(data["input_hw"])
        return TrainConfig(**data)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_hw"] = list(self.input_hw) if self.input_hw else None
        return d
