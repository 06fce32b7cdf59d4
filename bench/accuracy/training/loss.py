"""Heatmap loss with intermediate supervision (GCPM, Osokin 2019, Sec. 3.2): per stage the
squared error summed over pixels, averaged over heatmaps and batch; the stages' losses summed."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def heatmap_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The paper's per-stage loss; ``target`` is resized (bilinear) if its size differs."""
    if pred.ndim != 4 or target.ndim != 4:
        raise ValueError(
            f"heatmaps must be NCHW, got pred {tuple(pred.shape)}, target {tuple(target.shape)}"
        )
    if pred.shape[:2] != target.shape[:2]:
        raise ValueError(
            f"batch/channels differ: pred {tuple(pred.shape)} vs target {tuple(target.shape)}"
        )
    if pred.shape[2:] != target.shape[2:]:
        target = F.interpolate(target, size=pred.shape[2:], mode="bilinear", align_corners=False)
    per_sample = (pred - target).pow(2).sum(dim=(2, 3)).mean(dim=1)
    return per_sample.mean()


def multi_stage_loss(outputs: Sequence[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """Sum of :func:`heatmap_mse` over every stage / stack of the model's output list."""
    if isinstance(outputs, torch.Tensor) or len(outputs) == 0:
        raise ValueError(
            "the model must return a non-empty list of heatmap tensors (one per stage)"
        )
    return torch.stack([heatmap_mse(stage, target) for stage in outputs]).sum()
