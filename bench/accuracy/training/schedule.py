"""Learning-rate schedule of GCPM (Osokin 2019, Sec. 3.2): divide by 10 twice on plateaus.

The plateau is read on validation PCKh in percent (higher is better), and ``threshold`` is in the
same units: an epoch improves on the best only by more than ``threshold`` points (absolute mode),
so with the default 0.1 a gain of 0.05 points is a plateau epoch and 0.2 points is not. Limiting
the number of reductions is done with ``min_lr = lr * factor ** max_reductions``: once there, a
further reduction changes nothing, and the state stays a plain ``ReduceLROnPlateau`` state_dict
that checkpoints can store.
"""

from __future__ import annotations

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from bench.accuracy.training.config import ScheduleConfig


def build_optimizer(params, lr: float) -> torch.optim.Adam:
    return torch.optim.Adam(params, lr=lr)


def build_scheduler(
    optimizer: torch.optim.Optimizer, lr: float, cfg: ScheduleConfig
) -> ReduceLROnPlateau:
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


def current_lr(optimizer: torch.optim.Optimizer) -> float:
    return float(optimizer.param_groups[0]["lr"])
