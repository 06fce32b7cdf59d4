"""GCPM's learning-rate schedule (Osokin 2019, Sec. 3.2): divide by 10 twice on plateaus of the
validation PCKh (in percent; ``threshold`` is in points, absolute mode)."""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from bench.accuracy.training.config import ScheduleConfig


def build_scheduler(
    optimizer: torch.optim.Optimizer, lr: float, cfg: ScheduleConfig
) -> ReduceLROnPlateau:
    """At most ``cfg.max_reductions`` reductions, through ``min_lr``: the state stays a plain
    ``ReduceLROnPlateau`` state_dict that checkpoints can store."""
    min_lr = lr * cfg.factor**cfg.max_reductions
    # eps below the last step keeps float rounding at min_lr from counting as a third reduction
    return ReduceLROnPlateau(
        optimizer,
        mode="max",
        factor=cfg.factor,
        patience=cfg.patience,
        threshold=cfg.threshold,
        threshold_mode="abs",
        min_lr=min_lr,
        eps=min_lr * 1e-3,
    )
