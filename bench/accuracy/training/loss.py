"""Heatmap loss with intermediate supervision (GCPM, Osokin 2019, Sec. 3.2): per stage the
squared error summed over pixels, averaged over heatmaps and batch; the stages' losses summed."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def heatmap_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The paper's per-stage loss; ``target`` is resized (bilinear) if its size differs."""
    if pred.ndim != 4 or target.ndim != 4 or pred.shape[:2] != target.shape[:2]:
        shapes = f"pred {tuple(pred.shape)}, target {tuple(target.shape)}"
        raise ValueError(f"heatmaps must be NCHW of the same batch and channels, got {shapes}")
    if pred.shape[2:] != target.shape[2:]:
        target = F.interpolate(target, size=pred.shape[2:], mode="bilinear", align_corners=False)
    return (pred - target).pow(2).sum(dim=(2, 3)).mean()  # summed over pixels, mean over N, batch


def multi_stage_loss(outputs: Sequence[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """Sum of :func:`heatmap_mse` over every stage / stack of the model's output list."""
    if isinstance(outputs, torch.Tensor) or len(outputs) == 0:
        raise ValueError("the model must return a non-empty list of heatmaps (one per stage)")
    return torch.stack([heatmap_mse(stage, target) for stage in outputs]).sum()
