"""Temporal students: a saliency net with an explicit recurrent state, run frame by frame.

``TemporalSaliencyNet`` = backbone → decoder (the *spatial path*, per frame, at stride 8) →
temporal cell (the *temporal path*: a recurrent state at stride 8) → head. The state is an
explicit tensor so an app (or an exported artefact) runs the model one frame at a time:
``log_density, state = net(frame, state)``, with ``state = net.initial_state(input_hw)``
(zeros) at the start of every clip. Without a state, ``net(image)`` is an image model (the
first frame of a clip). During training ``net(clip)`` takes (B, T, 3, H, W) and returns
(B·T, 2, H, W): the fused map (channel 0) and the spatial path's own map (channel 1), both
read out by the same head, so a loss can supervise each path with its own teacher.

``gru_lite`` (registered in :data:`edgesal.models.parts.TEMPORAL`): a ConvGRU with only an
update gate, whose candidate is the frame's decoded features ``c``:
``h' = h + z·(c − h)``, ``z = σ(pw(relu(dw3×3([c, h]))))`` — a learned, per-pixel leaky
accumulator (z → 1 at a cut, z small on a steady view). The state carries one more channel,
``seen`` (0 after a reset, 1 afterwards), which forces ``z = 1`` on a clip's first frame, so
the first frame's map equals the spatial path's and a zero state is the one reset value.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from edgesal.models.decoders import TARGET_STRIDE
from edgesal.models.parts import TEMPORAL, register_temporal

STATE_INPUT, STATE_OUTPUT = "state", "state_out"


@register_temporal("gru_lite")
class GRULiteCell(nn.Module):
    """Update-gate-only ConvGRU over ``channels`` decoded features (+1 ``seen`` channel of state)."""

    def __init__(self, channels: int, kernel: int = 3, gate_bias: float = 0.0):
        super().__init__()
        self.channels = channels
        self.state_channels = channels + 1
        self.dw = nn.Conv2d(2 * channels, 2 * channels, kernel, padding=kernel // 2, groups=2 * channels)
        self.pw = nn.Conv2d(2 * channels, channels, 1)
        nn.init.constant_(self.pw.bias, gate_bias)

    def forward(self, c: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(features, state) → (fused features, new state)."""
        h, seen = state[:, :self.channels], state[:, self.channels:]
        z = torch.sigmoid(self.pw(F.relu(self.dw(torch.cat([c, h], dim=1)))))
        z = seen * z + (1.0 - seen)  # a fresh state takes the frame as it is
        fused = h + z * (c - h)
        return fused, torch.cat([fused, torch.ones_like(seen)], dim=1)


class TemporalSaliencyNet(nn.Module):
    """Frame (B, 3, H, W) + state → (B, 1, H, W) log density + new state (see the module docstring)."""

    state_names = (STATE_INPUT,)
    state_output_names = (STATE_OUTPUT,)

    def __init__(self, backbone: nn.Module, decoder: nn.Module, head: nn.Module, cell: str, **cell_kwargs):
        super().__init__()
        self.backbone = backbone
        self.decoder = decoder
        self.cell = TEMPORAL.lookup(cell)(decoder.out_channels, **cell_kwargs)
        self.head = head

    @property
    def output_kind(self) -> str:
        return self.head.output_kind

    def state_shapes(self, input_hw: tuple[int, int], batch: int = 1) -> list[tuple[int, ...]]:
        """Shapes of the state tensors for frames of ``input_hw``."""
        h, w = (math.ceil(s / TARGET_STRIDE) for s in input_hw)
        return [(batch, self.cell.state_channels, h, w)]

    def initial_state(self, input_hw: tuple[int, int], batch: int = 1) -> list[torch.Tensor]:
        """The reset state (zeros): the start of every clip."""
        return [torch.zeros(shape) for shape in self.state_shapes(input_hw, batch)]

    def spatial(self, x: torch.Tensor) -> torch.Tensor:
        """The spatial path: decoded features of one frame at stride 8."""
        return self.decoder(self.backbone(x))

    def step(self, x: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame: (log density, new state)."""
        fused, new_state = self.cell(self.spatial(x), state)
        return self.head(fused, (x.shape[-2], x.shape[-1])), new_state

    def forward_clip(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) → (B·T, 2, H, W): fused and spatial-path log densities, frame-major per clip."""
        b, t = clip.shape[:2]
        size = tuple(clip.shape[-2:])
        feats = self.spatial(clip.flatten(0, 1)).unflatten(0, (b, t))
        state = self.initial_state(size, b)[0].to(clip)
        outputs = []
        for i in range(t):
            fused, state = self.cell(feats[:, i], state)
            outputs.append(torch.cat([self.head(fused, size), self.head(feats[:, i], size)], dim=1))
        return torch.stack(outputs, dim=1).flatten(0, 1)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None):
        """A clip (5-D) → :meth:`forward_clip`; a frame without state → its log density (an image
        model: a clip's first frame); a frame with a state → (log density, new state)."""
        if x.dim() == 5:
            return self.forward_clip(x)
        if state is None:
            return self.step(x, self.initial_state(tuple(x.shape[-2:]), x.shape[0])[0].to(x))[0]
        return self.step(x, state)


def is_stateful(model: nn.Module) -> bool:
    """Whether ``model`` runs frame by frame with explicit state tensors."""
    return hasattr(model, "state_shapes")


def export_signature(model: nn.Module, input_hw: tuple[int, int], image_name: str = "input",
                     output_name: str = "output") -> tuple[tuple[torch.Tensor, ...], list[str], list[str]]:
    """(example inputs, input names, output names) of the graph an exporter traces: the image
    alone for image models; the image then the state tensors (in, out) for stateful ones."""
    example = torch.zeros(1, 3, *input_hw)
    if not is_stateful(model):
        return (example,), [image_name], [output_name]
    states = tuple(model.initial_state(input_hw))
    return ((example, *states), [image_name, *model.state_names], [output_name, *model.state_output_names])
