"""``SaliencyNet``: backbone → decoder → head, the architecture of every edgesal student."""

from __future__ import annotations

import torch
from torch import nn


class SaliencyNet(nn.Module):
    """Image (B, 3, H, W), normalised → (B, 1, H, W) log-density or sigmoid logits."""

    def __init__(self, backbone: nn.Module, decoder: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.decoder = decoder
        self.head = head

    @property
    def output_kind(self) -> str:
        return self.head.output_kind

    def forward_features(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Backbone features (for hint / statistics distillation) and the decoded map."""
        feats = self.backbone(x)
        return feats, self.decoder(feats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, decoded = self.forward_features(x)
        return self.head(decoded, (x.shape[-2], x.shape[-1]))
