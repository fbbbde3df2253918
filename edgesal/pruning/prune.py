"""The pruning driver: greedy Fisher (or baseline) pruning while training continues.

Loop (Theis et al. 2018): for ``signal_steps`` SGD steps on the training loss, accumulate the
pruning signal of every prunable group; remove the group chosen by the selection rule
(fixed β or β*); recompute the FLOP savings; repeat until ``n_prune`` groups are removed or
the FLOPs reach the target. Then the masked model is physically shrunk and optionally
fine-tuned for ``finetune_steps`` more steps. Everything is resumable from ``out/``:

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

BatchNorm: with ``bn="eval"`` (default) BatchNorm layers use their running statistics while
pruning and fine-tuning (their affine parameters still train). Data points then do not
interact, so one backward pass with per-sample masks gives the exact per-data-point Fisher
signal; ``bn="train"`` uses batch statistics (the per-sample gradients then include the
small cross-sample BatchNorm terms).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from edgesal.atomic import write_json
from edgesal.errors import EdgesalError
from edgesal.losses import get_loss
from edgesal.models import load_checkpoint, save_checkpoint
from edgesal.models.checkpoint import read_checkpoint
from edgesal.models.flops import count_flops, count_params
from edgesal.models.registry import ModelSpec
from edgesal.pruning.cost import FlopCostModel
from edgesal.pruning.criteria import Criterion, SignalBatch, make_criterion
from edgesal.pruning.dependency import DependencyGraph, trace_dependencies
from edgesal.pruning.masks import ChannelMasks
from edgesal.pruning.rebuild import physically_prune, pruned_channel_config
from edgesal.pruning.selection import alive_per_layer, parse_flop_target, round_candidates, select_block
from edgesal.training.arrays import TrainingArrays, load_training_arrays
from edgesal.training.trainer import validation_loss
from edgesal.training.batches import epoch_order, make_batch

STATE_FORMAT = "edgesal-prune-state/1"
# with maps_per_step > 1: a round removes at most this share of a layer's maps (≥ 1 map or
# block), since the layer's signal is stale once some of its maps are gone
LAYER_SHARE_PER_ROUND = 0.05
# config fields that shape the pruning trajectory: a resumed run must use the same values
_TRAJECTORY_KEYS = ("method", "beta", "beta_star", "signal_steps", "maps_per_step", "min_keep", "channel_multiple",
                    "lr", "momentum", "weight_decay", "batch", "seed", "data", "teacher_cache", "loss", "signal_loss",
                    "bn", "hflip", "retrain")


@dataclass
class PruneConfig:
    """All options of one pruning run (see :func:`prune_model`)."""

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
    loss: str | None = None  # training loss; default theis (log density) / fastsal_bce (sigmoid)
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


# --- helpers ----------------------------------------------------------------------------------

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
    return f"pruned_flops{label[:-1]}.pt" if isinstance(label, str) else f"pruned_{label}.pt"


def _snapshot_reached(label: int | str, n_pruned: int, flops: int, flops_start: int) -> bool:
    if isinstance(label, str):
        return flops <= parse_flop_target(label, flops_start)
    return n_pruned >= label


def resolve_model(model: str | nn.Module, spec: ModelSpec | None = None) -> tuple[nn.Module, ModelSpec, dict]:
    """(model, spec, source info) for a module (+spec), a registered/shipped name or a ``.pt``."""
    if isinstance(model, nn.Module):
        if spec is None:
            raise EdgesalError("pass the ModelSpec together with a model object")
        return model, spec, {"name": spec.name, "path": None, "sha256": None}
    from edgesal.model_info import resolve_torch_model

    m, s, meta = resolve_torch_model(str(model))
    if m is None:
        raise EdgesalError(f"cannot prune {model!r}: give an edgesal checkpoint (.pt) or an architecture name")
    info = {"name": meta.get("name", s.name), "path": meta.get("path"), "sha256": meta.get("sha256")}
    return m, s, info


def set_train_mode(model: nn.Module, bn: str) -> None:
    """``model.train()``, with BatchNorm layers in eval mode when ``bn == "eval"``."""
    if bn not in ("eval", "train"):
        raise EdgesalError(f"bn must be 'eval' or 'train', got {bn!r}")
    model.train()
    if bn == "eval":
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()


def _slice_batch(batch: dict, n: int) -> dict:
    return {k: (v[n:n + 1] if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}


def per_sample_losses(loss_fn, output: torch.Tensor, batch: dict) -> torch.Tensor:
    """(B,) losses, each computed by ``loss_fn`` on one data point."""
    return torch.stack([loss_fn(output[n:n + 1], _slice_batch(batch, n)) for n in range(output.shape[0])])


class _Data:
    """Deterministic batches by global step (resumable): epoch order by seed, flips per step."""

    def __init__(self, arrays: TrainingArrays, spec: ModelSpec, batch: int, seed: int, hflip: bool):
        self.arrays, self.spec, self.batch, self.seed, self.hflip = arrays, spec, batch, seed, hflip
        self.steps_per_epoch = max(len(epoch_order(len(arrays), seed, 0)) // batch, 1)

    def get(self, step: int) -> dict:
        epoch, within = divmod(step, self.steps_per_epoch)
        order = epoch_order(len(self.arrays), self.seed, epoch)
        idx = order[within * self.batch:(within + 1) * self.batch]
        if len(idx) == 0:
            idx = order[: self.batch]
        flip = np.random.default_rng([self.seed, step, 7]).random(len(idx)) < 0.5 if self.hflip else None
        return make_batch(self.arrays, idx, self.spec.mean, self.spec.std, flip)


class _Objective:
    """Training loss and per-data-point signal loss of a model kind."""

    def __init__(self, spec: ModelSpec, loss: str | None, signal_loss: str | None, has_teacher: bool):
        self.train_name = loss or ("theis" if spec.output_kind == "log_density" else "fastsal_bce")
        self.signal_name = signal_loss or ("fixation_nll" if spec.output_kind == "log_density" else self.train_name)
        self.train = get_loss(self.train_name)
        self.signal = get_loss(self.signal_name)
        same = self.signal_name == self.train_name
        if {self.signal_name, self.train_name} == {"theis", "fixation_nll"} and not has_teacher:
            same = True  # theis without a teacher is the fixation NLL
        self.same = same

    def valid(self, batch: dict) -> torch.Tensor:
        if self.signal_name == "fixation_nll":
            return batch["fixation_map"].flatten(1).sum(1) > 0
        return torch.ones(batch["image"].shape[0], dtype=torch.bool)


def training_step(model: nn.Module, masks: ChannelMasks | None, batch: dict, objective: _Objective,
                  optimizer: torch.optim.Optimizer | None,
                  criterion: Criterion | None = None) -> tuple[float, SignalBatch | None]:
    """One step: forward with (per-sample) masks, signal for ``criterion``, SGD update unless
    ``optimizer`` is None. Returns (training-loss value, signal)."""
    images = batch["image"]
    b = images.shape[0]
    need_grad = criterion is not None and criterion.needs_mask_grad
    m = None
    if masks is not None:
        masks.record_activations = criterion is not None and criterion.needs_activations
        m = torch.ones(b, masks.num_groups, requires_grad=True) if need_grad else None
        masks.set_mask(m)
    out = model(images)
    grad = None
    if need_grad:
        per = per_sample_losses(objective.signal, out, batch)
        if optimizer is not None and objective.same:
            loss = per.mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad = m.grad * b
        else:
            (grad,) = torch.autograd.grad(per.sum(), m, retain_graph=optimizer is not None)
            loss = objective.train(out, batch) if optimizer is not None else per.mean()
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
    else:
        loss = objective.train(out, batch)
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
    if not torch.isfinite(loss):
        raise EdgesalError(f"pruning diverged (loss {float(loss)}); lower --lr")
    if optimizer is not None:
        optimizer.step()
    signal = None
    if criterion is not None and masks is not None:
        act = masks.take_activations() if criterion.needs_activations else None
        signal = SignalBatch(grad.detach().to(torch.float64) if grad is not None else None, act,
                             objective.valid(batch))
    if masks is not None:
        masks.set_mask(None)
        masks.record_activations = False
    return float(loss.detach()), signal


def finetune(model: nn.Module, data: _Data, objective: _Objective, steps: int, lr: float, momentum: float,
             weight_decay: float, bn: str, start_step: int = 0, optimizer_state: dict | None = None,
             on_checkpoint=None, checkpoint_every: int = 100, progress: bool = True,
             data_offset: int = 0) -> list[float]:
    """SGD fine-tuning of a (physically pruned) model; returns the per-step losses.

    Batches are ``data.get(data_offset + step)`` (continuing the pruning run's data order).
    """
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    if optimizer_state:
        opt.load_state_dict(optimizer_state)
    set_train_mode(model, bn)
    losses = []
    bar = tqdm(total=steps, initial=start_step, desc="fine-tune", unit="step", disable=not progress)
    for step in range(start_step, steps):
        loss, _ = training_step(model, None, data.get(data_offset + step), objective, opt)
        losses.append(loss)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}")
        if on_checkpoint is not None and ((step + 1) % checkpoint_every == 0 or step + 1 == steps):
            on_checkpoint(step + 1, opt)
    bar.close()
    model.eval()
    return losses


# --- the driver -------------------------------------------------------------------------------

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
    if cfg.n_prune is None and cfg.flop_target is None:
        raise EdgesalError("give a stop rule: n_prune (--prune N) and/or flop_target (--flops F)")
    if cfg.n_prune is not None and cfg.n_prune < 0:
        raise EdgesalError("n_prune must be ≥ 0")
    if cfg.signal_steps < 0 or cfg.finetune_steps < 0:
        raise EdgesalError("signal_steps and finetune_steps must be ≥ 0")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    out = Path(cfg.out)
    state_path, ft_path, final_path = out / "state.pt", out / "finetune_state.pt", out / "pruned.pt"

    state = None
    if resume:
        if not state_path.exists():
            raise EdgesalError(f"nothing to resume: {state_path} does not exist")
        payload = read_checkpoint(state_path)
        state = payload.get("meta", {}).get("prune_state")
        if not state or state.get("format") != STATE_FORMAT:
            raise EdgesalError(f"{state_path} is not an edgesal pruning state")
        changed = [k for k in _TRAJECTORY_KEYS
                   if state["config"].get(k, getattr(PruneConfig, k, None)) != cfg.to_dict().get(k)]
        if changed:
            raise EdgesalError(f"cannot resume {out}: option(s) {', '.join(changed)} differ from the saved run")
        net, spec, _ = load_checkpoint(state_path)
        source = state["source"]
        optimizer_state = payload.get("optimizer")
    else:
        net, spec, source = resolve_model(model, spec)
        optimizer_state = None
    start_config = pruned_channel_config(net)
    input_shape = (1, 3, *spec.input_hw)

    arrays = load_training_arrays(cfg.data, spec.input_hw, cfg.cache_dir, cfg.teacher_cache, progress)
    objective = _Objective(spec, cfg.loss, cfg.signal_loss, arrays.teacher is not None)
    data_stream = _Data(arrays, spec, cfg.batch, cfg.seed, cfg.hflip)

    graph = trace_dependencies(net, input_shape)
    if state is not None and state["num_groups"] != graph.num_groups:
        raise EdgesalError(f"{state_path}: the model has {graph.num_groups} prunable groups, the state "
                           f"{state['num_groups']}")
    costs = FlopCostModel(graph)
    flops_start = costs.total()
    target = parse_flop_target(cfg.flop_target, flops_start)
    alive = np.array(state["alive"], dtype=bool) if state else np.ones(graph.num_groups, dtype=bool)
    n_pruned = int((~alive).sum())
    train_step = int(state["train_step"]) if state else 0
    history: list[dict] = list(state["history"]) if state else []
    flops_now = costs.total(alive)
    masks = ChannelMasks(graph, alive)
    criterion = make_criterion(cfg.method, graph, masks.spatial_elements)
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if optimizer_state:
        optimizer.load_state_dict(optimizer_state)
    if cfg.signal_steps == 0 and criterion.needs_data:
        raise EdgesalError(f"method {cfg.method!r} needs signal_steps ≥ 1")
    val_arrays = load_training_arrays(cfg.val, spec.input_hw, cfg.cache_dir, cfg.teacher_cache, False) \
        if cfg.val else None
    val_before = state.get("val_before") if state else None
    if val_arrays is not None and val_before is None:
        val_before = validation_loss(net, val_arrays, objective.train, spec)

    def done() -> bool:
        return ((cfg.n_prune is not None and n_pruned >= cfg.n_prune)
                or (target is not None and flops_now <= target))

    def save_state() -> None:
        prune_state = {
            "format": STATE_FORMAT, "config": cfg.to_dict(), "source": source, "alive": alive.tolist(),
            "num_groups": graph.num_groups, "train_step": train_step, "history": history,
            "flops_start": flops_start, "val_before": val_before,
            "start_pruned_channels": start_config,
        }
        save_checkpoint(state_path, net, spec, meta={"pruned_channels": start_config, "prune_state": prune_state},
                        extra={"optimizer": optimizer.state_dict()})

    snapshots: dict[int | str, Path] = {}

    def snapshot(label: int | str) -> None:
        pruned = physically_prune(net, graph, alive).eval()
        path = out / "snapshots" / snapshot_file(label)
        save_checkpoint(path, pruned, spec, meta=_result_meta(cfg, source, pruned_channel_config(pruned), n_pruned,
                                                             flops_start, flops_now, graph, history, spec))
        snapshots[label] = path

    if state is None:
        write_json(out / "prune_log.json", {"config": cfg.to_dict(), "status": "started"})
    # reuse existing snapshots of a resumed run
    for label in cfg.snapshots:
        p = out / "snapshots" / snapshot_file(label)
        if _snapshot_reached(label, n_pruned, flops_now, flops_start) and p.exists():
            snapshots[label] = p
    if 0 in cfg.snapshots and 0 not in snapshots:
        snapshot(0)

    total = cfg.n_prune if cfg.n_prune is not None else None
    bar = tqdm(total=total, initial=n_pruned if total else 0, desc=f"prune {spec.name} ({cfg.method})",
               unit="map", disable=not progress)
    steps_this_call = 0
    layer_names = [g.layer for g in graph.groups]
    layer_of = np.unique(layer_names, return_inverse=True)[1]
    min_alive = np.maximum(1, np.ceil(cfg.min_keep * np.bincount(layer_of)))  # per-layer floor
    masks.attach()
    try:
        while not done():
            criterion.reset()
            n_signal = cfg.signal_steps if (criterion.needs_data or cfg.retrain) else 0
            losses = []
            for _ in range(n_signal):
                set_train_mode(net, cfg.bn)
                loss, signal = training_step(net, masks, data_stream.get(train_step), objective,
                                             optimizer if cfg.retrain else None, criterion)
                if signal is not None:
                    criterion.update(signal)
                losses.append(loss)
                train_step += 1
            net.eval()
            scores = criterion.scores(alive, net)
            removed_now = 0
            per_round = max(cfg.maps_per_step, 1)  # paper: 1; costs are re-estimated after each removal
            candidates = round_candidates(scores, costs.savings(alive), costs.eligible(alive), per_round,
                                          beta=cfg.beta, beta_star=cfg.beta_star, flops_ref=flops_start)
            layer_budget = np.maximum(1, alive_per_layer(layer_of, alive, len(min_alive)) * LAYER_SHARE_PER_ROUND)
            taken = np.zeros(len(min_alive))
            while removed_now < per_round:
                allowed = costs.eligible(alive) & (taken[layer_of] < layer_budget[layer_of])
                # the first pick always goes ahead; later ones must be led by one of the round's candidates
                block, choice = select_block(scores, costs.savings(alive), allowed, layer_of, alive, min_alive,
                                             cfg.channel_multiple, lead=candidates if removed_now else None,
                                             beta=cfg.beta, beta_star=cfg.beta_star, flops_ref=flops_start)
                if not block:
                    break
                taken[layer_of[block[0]]] += len(block)
                for k in block:
                    saved = int(costs.savings(alive)[k])
                    alive = costs.remove(alive, k)
                    flops_now -= saved
                    n_pruned += 1
                    removed_now += 1
                    history.append({
                        "n": n_pruned, "train_step": train_step, "group": graph.groups[k].name, "index": k,
                        "score": float(scores[k]), "flops_saved": saved, "objective": choice.objective,
                        "beta_k": choice.beta_k, "flops": int(flops_now),
                        "train_loss": float(np.mean(losses)) if losses else None,
                    })
                    bar.update(1)
                for label in cfg.snapshots:  # after the whole block: snapshots keep the channel multiples
                    if label not in snapshots and _snapshot_reached(label, n_pruned, flops_now, flops_start):
                        snapshot(label)
                if done():
                    break
            if removed_now == 0:
                tqdm.write("no prunable feature map left "
                           "(every layer is at its floor: one map, --min-keep or --channel-multiple)")
                break
            masks.set_alive(alive)
            steps_this_call += 1
            bar.set_postfix(flops=f"{flops_now / flops_start:.1%}", last=graph.groups[k].name[-28:])
            if n_pruned % max(cfg.save_every, 1) == 0 or done():
                save_state()
            if stop_after is not None and steps_this_call >= stop_after and not done():
                save_state()
                bar.close()
                return PruneResult(net, spec, None, n_pruned, flops_start, int(flops_now), history, {},
                                   snapshots, finished=False)
    finally:
        masks.detach()
        bar.close()
    save_state()

    # physical removal + optional fine-tuning
    pruned = physically_prune(net, graph, alive).eval()
    ft_losses: list[float] = []
    if cfg.finetune_steps > 0:
        start, opt_state = 0, None
        if resume and ft_path.exists():
            ft = read_checkpoint(ft_path)
            ft_meta = ft.get("meta", {}).get("finetune_state", {})
            if ft_meta.get("pruned_maps") == n_pruned and ft_meta.get("alive") == alive.tolist():
                pruned, _, _ = load_checkpoint(ft_path)
                start, opt_state = int(ft_meta["step"]), ft.get("optimizer")

        def save_ft(step: int, opt: torch.optim.Optimizer) -> None:
            save_checkpoint(ft_path, pruned, spec,
                            meta={"pruned_channels": pruned_channel_config(pruned),
                                  "finetune_state": {"step": step, "pruned_maps": n_pruned, "alive": alive.tolist()}},
                            extra={"optimizer": opt.state_dict()})

        if start < cfg.finetune_steps:
            ft_losses = finetune(pruned, data_stream, objective, cfg.finetune_steps, cfg.lr, cfg.momentum,
                                 cfg.weight_decay, cfg.bn, start, opt_state, save_ft, progress=progress,
                                 data_offset=train_step)
    pruned.eval()
    config = pruned_channel_config(pruned)
    meta = _result_meta(cfg, source, config, n_pruned, flops_start, flops_now, graph, history, spec)
    meta["pruning"]["finetune_final_loss"] = ft_losses[-1] if ft_losses else None
    if val_arrays is not None:
        meta["pruning"]["val_loss_before"] = val_before
        meta["pruning"]["val_loss_after"] = validation_loss(pruned, val_arrays, objective.train, spec)
    save_checkpoint(final_path, pruned, spec, meta=meta)
    write_json(out / "prune_log.json", {"status": "finished", "config": cfg.to_dict(), "summary": meta["pruning"],
                                         "graph": graph.summary(), "history": history})
    return PruneResult(pruned, spec, final_path, n_pruned, flops_start, meta["pruning"]["flops_after"], history,
                       meta, snapshots)


def _result_meta(cfg: PruneConfig, source: dict, config: dict, n_pruned: int, flops_start: int, flops_now: int,
                 graph: DependencyGraph, history: list[dict], spec: ModelSpec) -> dict:
    pruned_names = [h["group"] for h in history[:n_pruned]]
    return {
        "pruned_channels": config,
        "pruning": {
            "method": cfg.method, "beta": None if cfg.beta_star else cfg.beta, "beta_star": cfg.beta_star,
            "pruned_maps": n_pruned, "flops_before": int(flops_start), "flops_after": int(flops_now),
            "gflops_before": round(flops_start / 1e9, 6), "gflops_after": round(flops_now / 1e9, 6),
            "input_hw": list(spec.input_hw), "prunable_groups": graph.num_groups,
            "signal_steps": cfg.signal_steps, "finetune_steps": cfg.finetune_steps, "lr": cfg.lr,
            "momentum": cfg.momentum, "batch": cfg.batch, "seed": cfg.seed, "data": cfg.data,
            "teacher_cache": cfg.teacher_cache, "loss": cfg.loss, "signal_loss": cfg.signal_loss, "bn": cfg.bn,
            "retrain": cfg.retrain, "source": source, "pruned_groups": pruned_names,
        },
    }


def summarise(path: str | Path) -> dict:
    """``meta["pruning"]`` of a pruned checkpoint plus its params and FLOPs (recounted)."""
    model, spec, meta = load_checkpoint(path)
    info = dict(meta.get("pruning", {}))
    info["params"] = count_params(model)
    info["flops_counted"] = count_flops(model, (1, 3, *spec.input_hw)).total_flops
    return info


__all__ = ["PruneConfig", "PruneResult", "prune_model", "snapshot_label", "snapshot_file", "resolve_model", "finetune",
           "training_step",
           "per_sample_losses", "set_train_mode", "summarise", "validation_loss"]
