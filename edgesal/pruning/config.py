"""Options of a pruning run and snapshot points."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from edgesal.errors import EdgesalError
from edgesal.pruning.selection import parse_flop_target

# config fields that shape the pruning trajectory: a resumed run must use the same values
TRAJECTORY_KEYS = ("method", "beta", "beta_star", "signal_steps", "maps_per_step", "min_keep", "channel_multiple",
                   "lr", "momentum", "weight_decay", "batch", "seed", "data", "teacher_cache", "loss", "signal_loss",
                   "bn", "hflip", "retrain")


def snapshot_label(value: int | str) -> int | str:
    """A snapshot point: a prune count (``1000``) or a FLOP level (``"50%"`` of the start)."""
    text = str(value).strip()
    try:
        if text.endswith("%"):
            pct = float(text[:-1])
            if not 0 < pct < 100:
                raise ValueError
            return f"{pct:g}%"
        n = int(text)
        if n < 0:
            raise ValueError
        return n
    except ValueError:
        raise EdgesalError(f"snapshot {value!r}: give a prune count (1000) or a FLOP level (50%)") from None


def snapshot_file(label: int | str) -> str:
    """File name of a snapshot: ``pruned_<n>.pt`` or ``pruned_flops<p>.pt``."""
    return f"pruned_flops{label[:-1]}.pt" if isinstance(label, str) else f"pruned_{label}.pt"


def snapshot_reached(label: int | str, n_pruned: int, flops: int, flops_start: int) -> bool:
    """Whether a run with ``n_pruned`` removed maps and ``flops`` left has passed ``label``."""
    if isinstance(label, str):
        return flops <= parse_flop_target(label, flops_start)
    return n_pruned >= label


@dataclass
class PruneConfig:
    """All options of one pruning run (see :func:`~edgesal.pruning.prune.prune_model`)."""

    data: list[str]
    method: str = "fisher"
    beta: float = 0.0
    beta_star: bool = False
    n_prune: int | None = None
    flop_target: str | float | None = None
    signal_steps: int = 10
    maps_per_step: int = 1  # paper: one map per pruning step; >1 trades fidelity for speed on CPU
    min_keep: float = 0.0  # keep at least this fraction of every layer's maps (0: only ≥ 1)
    channel_multiple: int = 1  # layers keep a multiple of this many maps (8: AVX2/NEON, 16: AVX-512)
    finetune_steps: int = 0
    lr: float = 0.0025
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch: int = 16
    seed: int = 0
    out: str = "runs/prune"
    val: list[str] = field(default_factory=list)
    teacher_cache: str | None = None
    loss: str | None = None  # training loss; default edgesal.losses.default_loss
    signal_loss: str | None = None  # default fixation_nll (log density) / the training loss
    cache_dir: str = "runs/cache"
    bn: str = "eval"  # eval | train
    hflip: bool = True
    retrain: bool = True  # False: no SGD updates while pruning (signal on fixed weights)
    snapshots: list[int | str] = field(default_factory=list)  # counts (1000) and/or FLOP levels ("50%")
    save_every: int = 1
    threads: int | None = None

    def __post_init__(self) -> None:  # JSON-able: paths as strings
        self.data = [str(d) for d in self.data]
        self.val = [str(v) for v in self.val]
        self.out, self.cache_dir = str(self.out), str(self.cache_dir)
        if self.teacher_cache is not None:
            self.teacher_cache = str(self.teacher_cache)
        self.snapshots = sorted({snapshot_label(n) for n in self.snapshots}, key=str)

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> None:
        """EdgesalError for a missing stop rule or negative counts."""
        if self.n_prune is None and self.flop_target is None:
            raise EdgesalError("give a stop rule: n_prune (--prune N) and/or flop_target (--flops F)")
        if self.n_prune is not None and self.n_prune < 0:
            raise EdgesalError("n_prune must be ≥ 0")
        if self.signal_steps < 0 or self.finetune_steps < 0:
            raise EdgesalError("signal_steps and finetune_steps must be ≥ 0")

    def changed_trajectory(self, saved: dict) -> list[str]:
        """Trajectory options whose value differs from a saved run's config."""
        now = self.to_dict()
        return [k for k in TRAJECTORY_KEYS if saved.get(k, getattr(PruneConfig, k, None)) != now.get(k)]


__all__ = ["TRAJECTORY_KEYS", "PruneConfig", "snapshot_file", "snapshot_label", "snapshot_reached"]
