"""Which group to prune next: a fixed loss/FLOP trade-off β, or the hyperparameter-free β*.

Notation: ``Δ_k`` = criterion score (for Fisher, the estimated loss increase in nats per
data point), ``ΔC_k`` ≥ 0 = FLOPs saved by removing ``k`` now, ``C_0`` = FLOPs of the model
when pruning started. The cost is normalised by ``C_0``, so ``c_k = ΔC_k / C_0`` is the
fraction of the original compute that ``k`` saves and β has units "loss per whole model":
β = 0.01 accepts a loss increase of 1e-4 nats for removing 1 % of the original FLOPs.
Normalising makes β comparable across input sizes and architectures.

* **fixed β** — prune ``argmin_k Δ_k − β·c_k``: the first-order change of ``L + β·C/C_0``
  (the paper writes ``Δ_k + β·ΔC_k`` with ``ΔC_k`` the *change* of the cost, which is
  negative; here savings are positive, hence the minus sign). β = 0 is pure loss-based
  pruning.
* **β\\*** — prune ``argmin_k Δ_k / c_k``: the map with the smallest loss increase per
  saved (normalised) FLOP. ``β_k = Δ_k / c_k`` is the smallest trade-off at which removing
  ``k`` stops increasing ``L + β·C/C_0``; β* picks the map that becomes worth removing first
  as β grows from 0, and records the implied β at every step (``beta_k`` in the history).

Exact ties (e.g. several dead maps with score 0) go to the larger saving, then the lowest
group index; groups that are removed or would leave a tensor without
channels are never chosen.

**Channel multiples** (:func:`select_block`, ``--channel-multiple M``): runtimes' fast
kernels want channel counts that are multiples of the SIMD width (onnxruntime's x86 NCHWc
convolutions need depthwise channels divisible by 8 with AVX2 and 16 with AVX-512; with odd
counts a pruned model with 3× fewer FLOPs ran no faster). Then the unit of removal is a
*block*: the ``r`` best maps of one layer, ``r`` bringing the layer's map count down to the
next multiple of ``M``. A block's loss is the sum of its maps' Δ_k (the Fisher estimate is
additive to first order) and its saving the sum of their ΔC_k (exact within one layer: the
cost is linear in a layer's channel count). ``M = 1`` is exactly :func:`select_group`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Choice:
    index: int  # -1: nothing eligible
    objective: float
    beta_k: float  # Δ_k / c_k (the trade-off at which removing k is neutral)


def map_objectives(scores: np.ndarray, savings: np.ndarray, *, beta: float = 0.0, beta_star: bool = False,
                   flops_ref: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per map: (objective of the rule, ratio Δ_k / c_k, normalised saving c_k)."""
    scores = np.asarray(scores, dtype=np.float64)
    c = np.asarray(savings, dtype=np.float64) / float(flops_ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(c > 0, scores / np.where(c > 0, c, 1.0), np.inf)
    return (ratio.copy() if beta_star else scores - beta * c), ratio, c


def select_group(scores: np.ndarray, savings: np.ndarray, eligible: np.ndarray, *, beta: float = 0.0,
                 beta_star: bool = False, flops_ref: float = 1.0) -> Choice:
    """Pick one group (see the module docstring for the two rules)."""
    eligible = np.asarray(eligible, dtype=bool) & np.isfinite(np.asarray(scores, dtype=np.float64))
    if not eligible.any():
        return Choice(-1, float("inf"), float("nan"))
    obj, ratio, c = map_objectives(scores, savings, beta=beta, beta_star=beta_star, flops_ref=flops_ref)
    obj[~eligible] = np.inf
    best = np.min(obj)
    if not np.isfinite(best):
        return Choice(-1, float("inf"), float("nan"))
    tied = np.nonzero(obj == best)[0]
    k = int(tied[np.argmax(c[tied])])  # exact ties (e.g. dead maps, score 0): larger saving first
    return Choice(k, float(obj[k]), float(ratio[k]))


def round_candidates(scores: np.ndarray, savings: np.ndarray, eligible: np.ndarray, k: int, *, beta: float = 0.0,
                     beta_star: bool = False, flops_ref: float = 1.0) -> np.ndarray:
    """Mask of the ``k`` eligible maps the rule ranks best (ties: larger saving first)."""
    obj, _, c = map_objectives(scores, savings, beta=beta, beta_star=beta_star, flops_ref=flops_ref)
    eligible = np.asarray(eligible, dtype=bool) & np.isfinite(obj)
    idx = np.nonzero(eligible)[0]
    best = idx[np.lexsort((idx, -c[idx], obj[idx]))[:k]]
    mask = np.zeros(len(obj), dtype=bool)
    mask[best] = True
    return mask


def select_block(scores: np.ndarray, savings: np.ndarray, eligible: np.ndarray, layer_of: np.ndarray,
                 alive: np.ndarray, min_alive: np.ndarray, multiple: int, *, lead: np.ndarray | None = None,
                 beta: float = 0.0, beta_star: bool = False, flops_ref: float = 1.0) -> tuple[list[int], Choice]:
    """Pick the block of maps to remove next (see "Channel multiples" above).

    ``layer_of[k]``: layer index of group ``k``; ``min_alive[layer]``: fewest maps a layer
    keeps; ``lead``: if given, a block's best map must be one of these. Returns (group
    indices, best first; empty when nothing is eligible) and the block's :class:`Choice`
    (``index`` = its first map).
    """
    per_layer = alive_per_layer(layer_of, alive, len(min_alive))
    if multiple <= 1:
        allowed = eligible & (per_layer[layer_of] > min_alive[layer_of]) & (True if lead is None else lead)
        choice = select_group(scores, savings, allowed, beta=beta, beta_star=beta_star, flops_ref=flops_ref)
        return ([choice.index] if choice.index >= 0 else []), choice
    scores = np.asarray(scores, dtype=np.float64)
    per_map, _, c = map_objectives(scores, savings, beta=beta, beta_star=beta_star, flops_ref=flops_ref)
    eligible = np.asarray(eligible, dtype=bool) & np.isfinite(scores) & (c > 0)
    best: tuple[float, float] | None = None
    best_block: list[int] = []
    best_ratio = float("nan")
    for layer in np.unique(layer_of[eligible]):
        n = int(per_layer[layer])
        r = n % multiple or multiple
        if n - r < max(int(min_alive[layer]), 1):
            continue
        members = np.nonzero(eligible & (layer_of == layer))[0]
        if len(members) < r:
            continue
        block = members[np.lexsort((members, -c[members], per_map[members]))[:r]]
        if lead is not None and not lead[block[0]]:
            continue
        saved = float(c[block].sum())  # the block as one map: summed loss and normalised saving
        obj, ratio, _ = map_objectives(scores[block].sum(keepdims=True), np.array([saved]), beta=beta,
                                       beta_star=beta_star)
        if best is None or (float(obj[0]), -saved) < best:
            best, best_block, best_ratio = (float(obj[0]), -saved), block.tolist(), float(ratio[0])
    if best is None:
        return [], Choice(-1, float("inf"), float("nan"))
    return best_block, Choice(best_block[0], best[0], best_ratio)


def alive_per_layer(layer_of: np.ndarray, alive: np.ndarray, n_layers: int) -> np.ndarray:
    """Number of alive maps in each layer."""
    return np.bincount(layer_of, weights=np.asarray(alive, dtype=float), minlength=n_layers).astype(np.int64)


def parse_flop_target(value: str | float | int | None, flops_ref: int) -> int | None:
    """FLOP target → absolute FLOPs. ``0.5`` or ``"50%"``: fraction of ``flops_ref`` (the
    unpruned model); ``"0.3G"`` / ``"0.3GFLOPs"`` / ``"250M"``: absolute FLOPs."""
    if value is None:
        return None
    from edgesal.errors import EdgesalError

    text = str(value).strip().lower().replace("flops", "").replace("flop", "")
    try:
        if text.endswith(("g", "m")):
            absolute = float(text[:-1]) * (1e9 if text.endswith("g") else 1e6)
            if not absolute > 0:
                raise ValueError
            return int(absolute)
        frac = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise EdgesalError(f"cannot read FLOP target {value!r} (use 0.5, 50%, 0.3G or 250M)") from None
    if not 0 < frac <= 1:
        raise EdgesalError(f"FLOP target fraction must be in (0, 1], got {value!r} (absolute: 0.3G)")
    return int(frac * flops_ref)
