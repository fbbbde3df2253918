"""The pruning driver: greedy Fisher (or baseline) pruning while training continues.

:func:`prune_model` opens a run folder, calls :meth:`Pruner.step
<edgesal.pruning.pruner.Pruner.step>` (signal over ``signal_steps`` SGD steps, then removal by
the selection rule) until ``n_prune`` groups are removed or the FLOPs reach the target, then
physically shrinks the masked model and optionally fine-tunes it for ``finetune_steps``
more steps. Everything is resumable from ``out/``:

=========================  ==================================================================
``out/state.pt``           pruning state after every ``save_every`` pruning steps: the masked
                           full-size model, optimizer (momentum), removed groups, step
                           counters, history (``edgesal.models.load_checkpoint`` loads it)
``out/finetune_state.pt``  fine-tuning state (pruned model + optimizer + step)
``out/pruned.pt``          the result: physically pruned (and fine-tuned) checkpoint with
                           ``meta["pruned_channels"]`` and ``meta["pruning"]``
``out/prune_log.json``     summary and per-step history
``out/snapshots/``         ``pruned_<n>.pt`` after ``n`` removed groups, ``pruned_flops<p>.pt``
                           when the FLOPs first reach ``p`` % (``snapshots=[1000, "50%"]``)
=========================  ==================================================================

BatchNorm while pruning: see :mod:`~edgesal.pruning.steps`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from edgesal.atomic import write_json
from edgesal.errors import EdgesalError
from edgesal.models import load_checkpoint, save_checkpoint
from edgesal.models.channel_config import pruned_channel_config
from edgesal.models.checkpoint import read_checkpoint
from edgesal.models.flops import count_flops, count_params
from edgesal.models.registry import ModelSpec
from edgesal.pruning.config import PruneConfig, snapshot_file, snapshot_reached
from edgesal.pruning.dependency import trace_dependencies
from edgesal.pruning.pruner import Pruner
from edgesal.pruning.rebuild import physically_prune
from edgesal.pruning.steps import Objective, finetune, prune_batches
from edgesal.training.arrays import TrainingArrays, load_training_arrays
from edgesal.training.trainer import seed_everything, validation_loss

STATE_FORMAT = "edgesal-prune-state/1"


@dataclass
class PruneResult:
    model: nn.Module  # physically pruned (and fine-tuned)
    spec: ModelSpec
    path: Path | None  # out/pruned.pt (None when interrupted by stop_after)
    pruned_maps: int
    flops_before: int
    flops_after: int
    history: list[dict]
    meta: dict
    snapshots: dict[int | str, Path] = field(default_factory=dict)  # by snapshot label
    finished: bool = True


def resolve_model(model: str | nn.Module, spec: ModelSpec | None = None) -> tuple[nn.Module, ModelSpec, dict]:
    """(model, spec, source info) for a module (+spec), a registered/shipped name or a ``.pt``."""
    if isinstance(model, nn.Module):
        if spec is None:
            raise EdgesalError("pass the ModelSpec together with a model object")
        return model, spec, {"name": spec.name, "path": None, "sha256": None}
    from edgesal.models.factory import create_model, model_source

    source = model_source(str(model))
    if source is None or not source.is_torch:
        raise EdgesalError(f"cannot prune {model!r}: give an edgesal checkpoint (.pt), a shipped name or an "
                           "architecture name")
    loaded = create_model(str(model))
    return loaded.model, loaded.spec, loaded.source


def _read_state(cfg: PruneConfig, state_path: Path) -> tuple[dict, dict]:
    """(saved pruning state, raw checkpoint) of a run to resume; EdgesalError if it differs."""
    if not state_path.exists():
        raise EdgesalError(f"nothing to resume: {state_path} does not exist")
    payload = read_checkpoint(state_path)
    state = payload.get("meta", {}).get("prune_state")
    if not state or state.get("format") != STATE_FORMAT:
        raise EdgesalError(f"{state_path} is not an edgesal pruning state")
    changed = cfg.changed_trajectory(state["config"])
    if changed:
        raise EdgesalError(f"cannot resume {cfg.out}: option(s) {', '.join(changed)} differ from the saved run")
    return state, payload


def _result_meta(cfg: PruneConfig, source: dict, pruner: Pruner, model: nn.Module, spec: ModelSpec) -> dict:
    """``meta`` of a pruned checkpoint: ``pruned_channels`` of ``model`` and ``pruning``."""
    pruned_names = [h["group"] for h in pruner.history[:pruner.n_pruned]]
    return {
        "pruned_channels": pruned_channel_config(model),
        "pruning": {
            "method": cfg.method, "beta": None if cfg.beta_star else cfg.beta, "beta_star": cfg.beta_star,
            "pruned_maps": pruner.n_pruned, "flops_before": int(pruner.flops_start),
            "flops_after": int(pruner.flops_now), "gflops_before": round(pruner.flops_start / 1e9, 6),
            "gflops_after": round(pruner.flops_now / 1e9, 6), "input_hw": list(spec.input_hw),
            "prunable_groups": pruner.graph.num_groups,
            "signal_steps": cfg.signal_steps, "finetune_steps": cfg.finetune_steps, "lr": cfg.lr,
            "momentum": cfg.momentum, "batch": cfg.batch, "seed": cfg.seed, "data": cfg.data,
            "teacher_cache": cfg.teacher_cache, "loss": cfg.loss, "signal_loss": cfg.signal_loss, "bn": cfg.bn,
            "retrain": cfg.retrain, "source": source, "pruned_groups": pruned_names,
        },
    }


class _PruneRun:
    """One run folder: resumable state, snapshots, fine-tuning, the final checkpoint and log."""

    def __init__(self, cfg: PruneConfig, spec: ModelSpec, source: dict, pruner: Pruner, stream,
                 start_config: dict, val_arrays: TrainingArrays | None, val_before: float | None):
        self.cfg, self.spec, self.source, self.pruner, self.stream = cfg, spec, source, pruner, stream
        self.start_config, self.val_arrays, self.val_before = start_config, val_arrays, val_before
        self.out = Path(cfg.out)
        self.state_path, self.ft_path = self.out / "state.pt", self.out / "finetune_state.pt"
        self.snapshots: dict[int | str, Path] = {}

    def save_state(self) -> None:
        p = self.pruner
        prune_state = {
            "format": STATE_FORMAT, "config": self.cfg.to_dict(), "source": self.source, "alive": p.alive.tolist(),
            "num_groups": p.graph.num_groups, "train_step": p.train_step, "history": p.history,
            "flops_start": p.flops_start, "val_before": self.val_before,
            "start_pruned_channels": self.start_config,
        }
        save_checkpoint(self.state_path, p.net, self.spec,
                        meta={"pruned_channels": self.start_config, "prune_state": prune_state},
                        extra={"optimizer": p.optimizer.state_dict()})

    def _reached(self, label: int | str) -> bool:
        return snapshot_reached(label, self.pruner.n_pruned, self.pruner.flops_now, self.pruner.flops_start)

    def snapshot(self, label: int | str) -> None:
        pruned = physically_prune(self.pruner.net, self.pruner.graph, self.pruner.alive).eval()
        path = self.out / "snapshots" / snapshot_file(label)
        save_checkpoint(path, pruned, self.spec, meta=_result_meta(self.cfg, self.source, self.pruner, pruned,
                                                                   self.spec))
        self.snapshots[label] = path

    def take_due_snapshots(self) -> None:
        for label in self.cfg.snapshots:
            if label not in self.snapshots and self._reached(label):
                self.snapshot(label)

    def start(self, fresh: bool) -> None:
        """Log the start; reuse the snapshots of a resumed run; snapshot 0 if asked."""
        if fresh:
            write_json(self.out / "prune_log.json", {"config": self.cfg.to_dict(), "status": "started"})
        for label in self.cfg.snapshots:
            p = self.out / "snapshots" / snapshot_file(label)
            if self._reached(label) and p.exists():
                self.snapshots[label] = p
        if 0 in self.cfg.snapshots and 0 not in self.snapshots:
            self.snapshot(0)

    def finetune(self, resume: bool, progress: bool) -> tuple[nn.Module, list[float]]:
        """The physically pruned model, fine-tuned for ``finetune_steps`` (resumable)."""
        p, cfg = self.pruner, self.cfg
        pruned = physically_prune(p.net, p.graph, p.alive).eval()
        if cfg.finetune_steps <= 0:
            return pruned, []
        start, opt_state = 0, None
        if resume and self.ft_path.exists():
            ft = read_checkpoint(self.ft_path)
            ft_meta = ft.get("meta", {}).get("finetune_state", {})
            if ft_meta.get("pruned_maps") == p.n_pruned and ft_meta.get("alive") == p.alive.tolist():
                pruned, _, _ = load_checkpoint(self.ft_path)
                start, opt_state = int(ft_meta["step"]), ft.get("optimizer")

        def save_ft(step: int, opt: torch.optim.Optimizer) -> None:
            save_checkpoint(self.ft_path, pruned, self.spec,
                            meta={"pruned_channels": pruned_channel_config(pruned),
                                  "finetune_state": {"step": step, "pruned_maps": p.n_pruned,
                                                     "alive": p.alive.tolist()}},
                            extra={"optimizer": opt.state_dict()})

        if start >= cfg.finetune_steps:
            return pruned, []
        losses = finetune(pruned, self.stream, p.objective, cfg.finetune_steps, cfg.lr, cfg.momentum,
                          cfg.weight_decay, cfg.bn, start, opt_state, save_ft, progress=progress,
                          data_offset=p.train_step)
        return pruned, losses

    def finish(self, pruned: nn.Module, ft_losses: list[float]) -> PruneResult:
        """Write ``pruned.pt`` and the final log."""
        p = self.pruner
        pruned.eval()
        meta = _result_meta(self.cfg, self.source, p, pruned, self.spec)
        meta["pruning"]["finetune_final_loss"] = ft_losses[-1] if ft_losses else None
        if self.val_arrays is not None:
            meta["pruning"]["val_loss_before"] = self.val_before
            meta["pruning"]["val_loss_after"] = validation_loss(pruned, self.val_arrays, p.objective.train, self.spec)
        final_path = self.out / "pruned.pt"
        save_checkpoint(final_path, pruned, self.spec, meta=meta)
        write_json(self.out / "prune_log.json", {"status": "finished", "config": self.cfg.to_dict(),
                                                  "summary": meta["pruning"], "graph": p.graph.summary(),
                                                  "history": p.history})
        return PruneResult(pruned, self.spec, final_path, p.n_pruned, p.flops_start, meta["pruning"]["flops_after"],
                           p.history, meta, self.snapshots)

    def interrupted(self) -> PruneResult:
        p = self.pruner
        return PruneResult(p.net, self.spec, None, p.n_pruned, p.flops_start, int(p.flops_now), p.history, {},
                           self.snapshots, finished=False)


def _open_run(cfg: PruneConfig, model: str | nn.Module, spec: ModelSpec | None, resume: bool,
              progress: bool) -> _PruneRun:
    """Load the model (or the state to resume), data, graph and pruner of a run."""
    state_path = Path(cfg.out) / "state.pt"
    state, optimizer_state = None, None
    if resume:
        state, payload = _read_state(cfg, state_path)
        net, spec, _ = load_checkpoint(state_path)
        source, optimizer_state = state["source"], payload.get("optimizer")
    else:
        net, spec, source = resolve_model(model, spec)
    start_config = pruned_channel_config(net)
    arrays = load_training_arrays(cfg.data, spec.input_hw, cfg.cache_dir, cfg.teacher_cache, progress)
    objective = Objective(spec, cfg.loss, cfg.signal_loss, arrays.teacher is not None)
    stream = prune_batches(arrays, spec, cfg.batch, cfg.seed, cfg.hflip)
    graph = trace_dependencies(net, (1, 3, *spec.input_hw))
    if state is not None and state["num_groups"] != graph.num_groups:
        raise EdgesalError(f"{state_path}: the model has {graph.num_groups} prunable groups, the state "
                           f"{state['num_groups']}")
    pruner = Pruner(net, graph, cfg, objective, stream.get, state)
    if optimizer_state:
        pruner.optimizer.load_state_dict(optimizer_state)
    if cfg.signal_steps == 0 and pruner.criterion.needs_data:
        raise EdgesalError(f"method {cfg.method!r} needs signal_steps ≥ 1")
    val_arrays = load_training_arrays(cfg.val, spec.input_hw, cfg.cache_dir, cfg.teacher_cache, False) \
        if cfg.val else None
    val_before = state.get("val_before") if state else None
    if val_arrays is not None and val_before is None:
        val_before = validation_loss(net, val_arrays, objective.train, spec)
    return _PruneRun(cfg, spec, source, pruner, stream, start_config, val_arrays, val_before)


def _prune_until_done(run: _PruneRun, stop_after: int | None, progress: bool) -> bool:
    """Call ``pruner.step()`` until done (state saved every ``save_every`` maps); False if
    interrupted by ``stop_after``."""
    p, cfg = run.pruner, run.cfg
    p.after_block = run.take_due_snapshots
    total = cfg.n_prune if cfg.n_prune is not None else None
    p.bar = tqdm(total=total, initial=p.n_pruned if total else 0, desc=f"prune {run.spec.name} ({cfg.method})",
                 unit="map", disable=not progress)
    steps_this_call = 0
    p.masks.attach()
    try:
        while not p.done():
            if p.step() == 0:
                tqdm.write("no prunable feature map left "
                           "(every layer is at its floor: one map, --min-keep or --channel-multiple)")
                break
            steps_this_call += 1
            last = p.graph.groups[p.last_removed].name
            p.bar.set_postfix(flops=f"{p.flops_now / p.flops_start:.1%}", last=last[-28:])
            if p.n_pruned % max(cfg.save_every, 1) == 0 or p.done():
                run.save_state()
            if stop_after is not None and steps_this_call >= stop_after and not p.done():
                run.save_state()
                return False
    finally:
        p.masks.detach()
        p.bar.close()
    run.save_state()
    return True


def prune_model(model: str | nn.Module, data: list[str] | str, *, spec: ModelSpec | None = None,
                method: str = "fisher", beta: float = 0.0, beta_star: bool = False, n_prune: int | None = None,
                flop_target: str | float | None = None, signal_steps: int = 10, finetune_steps: int = 0,
                lr: float = 0.0025, momentum: float = 0.9, batch: int = 16, seed: int = 0,
                out: str | Path = "runs/prune", resume: bool = False, progress: bool = True,
                stop_after: int | None = None, **options) -> PruneResult:
    """Prune ``model`` (checkpoint path, registered/shipped name, or module + ``spec``).

    ``data``: training sources (``osie:train``, ``<dir>:train``, ``images:DIR`` …). Stop
    after ``n_prune`` removed groups and/or when the FLOPs reach ``flop_target`` (``0.5``
    / ``"50%"`` of the starting model, or ``"0.3G"`` absolute). Other options are the
    fields of :class:`PruneConfig` (``val``, ``teacher_cache``, ``loss``, ``signal_loss``,
    ``weight_decay``, ``bn``, ``hflip``, ``retrain``, ``snapshots``, ``save_every``,
    ``cache_dir``, ``threads``). ``resume=True`` continues ``out/`` (the stop rule and
    ``finetune_steps`` may change; the trajectory options may not). ``stop_after``
    interrupts after that many pruning steps of this call (for tests).
    """
    cfg = PruneConfig(data=[data] if isinstance(data, str) else list(data), method=method, beta=float(beta),
                      beta_star=bool(beta_star), n_prune=n_prune, flop_target=flop_target,
                      signal_steps=int(signal_steps), finetune_steps=int(finetune_steps), lr=float(lr),
                      momentum=float(momentum), batch=int(batch), seed=int(seed), out=str(out), **options)
    cfg.validate()
    seed_everything(cfg.seed, cfg.threads)
    run = _open_run(cfg, model, spec, resume, progress)
    run.start(fresh=not resume)
    if not _prune_until_done(run, stop_after, progress):
        return run.interrupted()
    return run.finish(*run.finetune(resume, progress))


def summarise(path: str | Path) -> dict:
    """``meta["pruning"]`` of a pruned checkpoint plus its params and FLOPs (recounted)."""
    model, spec, meta = load_checkpoint(path)
    info = dict(meta.get("pruning", {}))
    info["params"] = count_params(model)
    info["flops_counted"] = count_flops(model, (1, 3, *spec.input_hw)).total_flops
    return info


__all__ = ["STATE_FORMAT", "PruneConfig", "PruneResult", "prune_model", "resolve_model", "summarise"]
