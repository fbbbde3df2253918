"""Output heads: FastSal's sigmoid map head and the Fisher-pruning/DeepGaze readout head.

``SigmoidHead``: 3×3 conv to one channel, bilinear upsampling to the input size; returns
logits (apply ``sigmoid`` for the map).

``ReadoutHead`` (Theis et al. 2018): 1×1 convolutions with PReLU (``hidden`` maps, default
32, 16, 2) then one map, bilinear upsampling to the input size, a separable Gaussian blur
(σ = ``blur_frac`` × input width, reflect padding), + α · log center bias, and a softmax
over all pixels. Returns a natural-log fixation density (logsumexp over pixels = 0).
A scalar ``sharpness`` (inverse temperature, default 1) scales the scores before the
softmax; ``edgesal.training.calibration`` fits it on the validation split after training.
A centre bias stored at another input size is resampled when a checkpoint is loaded.
``output_stride`` k > 1 returns the density at ⌈H/k⌉×⌈W/k⌉ (blur σ scaled by 1/k): the
full-resolution blur and softmax are most of a small model's time in LiteRT (measured on
`fast`: 7.4 → 2.8 ms at k = 4), and every consumer resizes the map to the image anyway.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from edgesal.models.parts import register_head


@register_head("sigmoid")
class SigmoidHead(nn.Module):
    output_kind = "sigmoid"

    def __init__(self, in_channels: int, input_hw: tuple[int, int] | None = None):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 1, 3, padding=1)

    def forward(self, x: torch.Tensor, size_hw: tuple[int, int]) -> torch.Tensor:
        return F.interpolate(self.conv(x), size=size_hw, mode="bilinear", align_corners=False)


def gaussian_kernel1d(sigma: float) -> torch.Tensor:
    """Normalised 1-D Gaussian with radius ceil(3σ)."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


class SeparableGaussianBlur(nn.Module):
    """Fixed separable Gaussian blur of a 1-channel map."""

    def __init__(self, sigma: float):
        super().__init__()
        k = gaussian_kernel1d(sigma)
        self.radius = (len(k) - 1) // 2
        self.register_buffer("kx", k.view(1, 1, 1, -1), persistent=False)
        self.register_buffer("ky", k.view(1, 1, -1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.radius
        x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), self.kx)
        return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), self.ky)


def gaussian_log_prior(size_hw: tuple[int, int], sigma_frac: float = 0.25) -> torch.Tensor:
    """Log of a centred Gaussian density at ``size_hw`` (1, 1, H, W)."""
    h, w = size_hw
    ys = (torch.arange(h) + 0.5) / h - 0.5
    xs = (torch.arange(w) + 0.5) / w - 0.5
    logp = -0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2) / sigma_frac**2
    return torch.log_softmax(logp.flatten(), 0).view(1, 1, h, w)


def resampled_log_prior(log_prior: torch.Tensor, size_hw: tuple[int, int]) -> torch.Tensor:
    """A log density (1, 1, h, w) at ``size_hw``: bilinear in log space, as :meth:`ReadoutHead.forward`
    resizes it for other inputs (so the maps do not change), then renormalised."""
    resized = F.interpolate(log_prior.float(), size=tuple(size_hw), mode="bilinear", align_corners=False)
    return torch.log_softmax(resized.flatten(), 0).view(1, 1, *size_hw)


@register_head("readout")
class ReadoutHead(nn.Module):
    output_kind = "log_density"

    def __init__(self, in_channels: int, input_hw: tuple[int, int], hidden: tuple[int, ...] = (32, 16, 2),
                 blur_frac: float = 0.02, output_stride: int = 1):
        super().__init__()
        if int(output_stride) < 1:
            raise ValueError(f"output_stride must be >= 1, got {output_stride}")
        self.output_stride = int(output_stride)
        layers: list[nn.Module] = []
        c = in_channels
        for h in hidden:
            layers += [nn.Conv2d(c, h, 1), nn.PReLU(h)]
            c = h
        layers.append(nn.Conv2d(c, 1, 1))
        self.readout = nn.Sequential(*layers)
        self.blur = SeparableGaussianBlur(blur_frac * input_hw[1] / self.output_stride)
        self.register_buffer("log_center_bias", gaussian_log_prior(input_hw))
        self.center_bias_weight = nn.Parameter(torch.ones(1))
        self.register_buffer("sharpness", torch.ones(1))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        state_dict.setdefault(prefix + "sharpness", torch.ones(1))  # checkpoints before calibration
        stored = state_dict.get(prefix + "log_center_bias")
        if stored is not None and stored.shape != self.log_center_bias.shape:  # trained at another input size
            state_dict[prefix + "log_center_bias"] = resampled_log_prior(stored, self.log_center_bias.shape[-2:])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def set_center_bias(self, density: torch.Tensor) -> None:
        """Replace the prior with a fitted density (H, W), e.g. from training fixations."""
        density = density.to(torch.float32).clamp_min(1e-12)
        density = F.interpolate(density[None, None], size=self.log_center_bias.shape[-2:],
                                mode="bilinear", align_corners=False)
        self.log_center_bias.copy_(torch.log(density / density.sum()))

    def output_hw(self, size_hw: tuple[int, int]) -> tuple[int, int]:
        """Size of the returned map for an input of ``size_hw``."""
        k = self.output_stride
        return (-(-size_hw[0] // k), -(-size_hw[1] // k))

    def forward(self, x: torch.Tensor, size_hw: tuple[int, int]) -> torch.Tensor:
        size_hw = self.output_hw(size_hw)
        s = F.interpolate(self.readout(x), size=size_hw, mode="bilinear", align_corners=False)
        s = self.blur(s)
        prior = self.log_center_bias
        if prior.shape[-2:] != tuple(size_hw):
            prior = F.interpolate(prior, size=size_hw, mode="bilinear", align_corners=False)
        s = (s + self.center_bias_weight * prior) * self.sharpness
        b = s.shape[0]
        return torch.log_softmax(s.reshape(b, -1), dim=1).reshape(b, 1, *size_hw)

