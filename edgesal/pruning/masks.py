"""Binary masks on the prunable channel groups, applied with forward pre-hooks.

A mask ``m_k`` multiplies every channel of group ``k`` where it enters a *consumer*
(a convolution or linear layer reading it). That is exactly what removing the group does to
the rest of the network: setting ``m_k = 0`` gives the same outputs as physically slicing
the group away (the depthwise convolution and BatchNorm between an expand and a project
convolution would otherwise leak a constant BN bias into the project convolution).

``∂L/∂m_k`` at ``m = 1`` is ``Σ_sites Σ_ij a_kij ∂L/∂a_kij`` over the activations ``a`` of
the group where the consumers read them — the pruning signal of Molchanov et al. and, for
``L = −log Q(z_n | I_n)`` and one data point, the ``g_nk`` of Theis et al.'s Fisher pruning.
Masks of shape ``(B, K)`` give those gradients per data point in one backward pass as long
as the data points do not interact (BatchNorm in eval mode).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from edgesal.pruning.dependency import DependencyGraph


class ChannelMasks:
    """Group masks for a traced model: ``attach()`` installs the hooks, ``detach()`` removes them.

    ``alive`` (bool, K) are the hard masks of pruning (False = removed); ``set_mask(m)``
    sets soft/per-sample masks ``m`` of shape (1 or B, K) multiplied on top (pass a tensor
    with ``requires_grad`` to get ``∂L/∂m``). With ``record_activations`` the hooks also
    accumulate ``mean |a|`` per sample and group (see :meth:`take_activations`).
    """

    def __init__(self, graph: DependencyGraph, alive: np.ndarray | None = None):
        self.graph = graph
        self.num_groups = k = graph.num_groups
        self.alive = np.ones(k, dtype=bool) if alive is None else np.asarray(alive, dtype=bool).copy()
        self._sites: dict[nn.Module, Tensor] = {}
        pairs = np.zeros(k, dtype=np.int64)
        spatial = np.zeros(k, dtype=np.int64)
        for module, _name, value, groups in graph.consumer_sites():
            idx = np.where(groups >= 0, groups, k)
            self._sites[module] = torch.as_tensor(idx, dtype=torch.long)
            sel = groups[groups >= 0]
            np.add.at(pairs, sel, 1)
            np.add.at(spatial, sel, graph.values[value].spatial)
        self.site_channels = pairs  # (site, channel) pairs per group
        self.spatial_elements = spatial  # M_k: activations per data point over all sites
        self._mask: Tensor | None = None
        self._ext: dict[torch.dtype, Tensor] = {}
        self.record_activations = False
        self._act: Tensor | None = None
        self._handles: list = []

    # hooks
    def attach(self) -> ChannelMasks:
        if not self._handles:
            self._handles = [m.register_forward_pre_hook(self._hook) for m in self._sites]
        return self

    def detach(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def __enter__(self) -> ChannelMasks:
        return self.attach()

    def __exit__(self, *exc) -> None:
        self.detach()

    # masks
    def set_alive(self, alive: np.ndarray) -> None:
        self.alive = np.asarray(alive, dtype=bool).copy()
        self._ext = {}

    def set_mask(self, mask: Tensor | None) -> None:
        """Soft masks (1 or B, K) on top of ``alive``; None = all ones. Resets activation sums."""
        self._mask = mask
        self._ext = {}
        self._act = None

    def _extended(self, dtype: torch.dtype, device) -> Tensor:
        ext = self._ext.get(dtype)
        if ext is None:
            alive = torch.as_tensor(self.alive, device=device).to(dtype)
            base = alive[None] if self._mask is None else self._mask.to(device=device, dtype=dtype) * alive
            ones = torch.ones(base.shape[0], 1, dtype=dtype, device=device)
            ext = torch.cat([base, ones], dim=1)
            self._ext[dtype] = ext
        return ext

    def _hook(self, module: nn.Module, args: tuple):
        x = args[0]
        idx = self._sites[module]
        if idx.device != x.device:
            idx = self._sites[module] = idx.to(x.device)
        mvec = self._extended(x.dtype, x.device)[:, idx]  # (Bm, C)
        if self.record_activations:
            a = x.detach().abs()
            a = a.flatten(2).mean(2) if a.dim() > 2 else a
            if self._act is None or self._act.shape[0] != a.shape[0]:
                self._act = torch.zeros(a.shape[0], self.num_groups + 1, dtype=torch.float64, device=a.device)
            self._act.index_add_(1, idx, a.to(torch.float64))
        shape = (mvec.shape[0], mvec.shape[1]) + (1,) * (x.dim() - 2)
        return (x * mvec.view(shape), *args[1:])

    def take_activations(self) -> Tensor | None:
        """Per sample and group: mean over the group's (site, channel) pairs of the spatial
        mean of ``|a|`` since the last ``set_mask`` (B, K), or None if nothing was recorded."""
        if self._act is None:
            return None
        pairs = torch.as_tensor(np.maximum(self.site_channels, 1), dtype=torch.float64)
        act = self._act[:, : self.num_groups].cpu() / pairs
        self._act = None
        return act


def per_sample_mask_grads(model: nn.Module, masks: ChannelMasks, images: Tensor,
                          per_sample_loss: Callable[[Tensor], Tensor]) -> tuple[Tensor, Tensor]:
    """``∂L_n/∂m_k`` at ``m = 1`` for every data point ``n`` and group ``k`` (B, K), and ``L_n`` (B,).

    ``per_sample_loss(output) -> (B,)``. Exact per data point when samples do not interact
    (put BatchNorm in eval mode). ``masks`` must be attached.
    """
    b = images.shape[0]
    m = torch.ones(b, masks.num_groups, dtype=images.dtype, requires_grad=True)
    masks.set_mask(m)
    try:
        losses = per_sample_loss(model(images))
        (grad,) = torch.autograd.grad(losses.sum(), m)
    finally:
        masks.set_mask(None)
    return grad.detach(), losses.detach()
