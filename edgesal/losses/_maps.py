"""Shape helpers shared by the saliency losses (private)."""

from __future__ import annotations

from torch import Tensor


def flatten_maps(x: Tensor, name: str = "map") -> Tensor:
    """Return a (B, H*W) view of a (B, H, W) or (B, 1, H, W) map."""
    if x.dim() == 4:
        if x.shape[1] != 1:
            raise ValueError(f"{name} must have one channel, got shape {tuple(x.shape)}")
        x = x[:, 0]
    if x.dim() != 3:
        raise ValueError(f"{name} must be (B, H, W) or (B, 1, H, W), got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0], -1)


def spatial_size(x: Tensor) -> tuple[int, int]:
    """(H, W) of a (B, H, W) or (B, 1, H, W) map."""
    return int(x.shape[-2]), int(x.shape[-1])


def check_same_size(pred: Tensor, target: Tensor, pred_name: str, target_name: str) -> None:
    """Raise ValueError unless both maps have the same batch size and spatial size."""
    if pred.shape[0] != target.shape[0] or spatial_size(pred) != spatial_size(target):
        raise ValueError(
            f"{pred_name} has shape {tuple(pred.shape)} but {target_name} has shape "
            f"{tuple(target.shape)}: batch size and (H, W) must match (resize the target first)"
        )


def as_float_like(target: Tensor, ref: Tensor) -> Tensor:
    """Cast a (possibly bool / integer) target to the dtype and device of ``ref``."""
    return target.to(device=ref.device, dtype=ref.dtype)


def masked_mean(values: Tensor, mask: Tensor, like: Tensor) -> Tensor:
    """Mean of ``values`` where ``mask`` is True; a zero connected to the graph when none are.

    The zero is ``like.sum() * 0`` so that ``backward()`` still works (with zero gradients)
    on a batch in which no image is valid, instead of producing NaN.
    """
    if bool(mask.any()):
        return values[mask].mean()
    return like.sum() * 0.0
