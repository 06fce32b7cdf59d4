"""What a training checkpoint holds, and how a run continues from one.

``last.pt`` holds the whole training state (see :mod:`bench.accuracy.training.checkpoint`);
``best.pt`` the weights of the best validated epoch with the same identification (model name, input
size, config), so that evaluation can check it. A run continues from ``--resume FILE`` or, by
default, from ``<out>/last.pt``, and only if the file is a training state of the same model trained
with the same recipe: otherwise it stops before building anything, naming the differing options
(``--restart`` starts afresh instead).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from architectures.errors import UsageError
from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training import distributed as dist_utils
from bench.accuracy.training.checkpoint import CheckpointError
from bench.accuracy.training.config import TrainConfig, config_changes, config_record
from bench.accuracy.training.model import check_made_for

TRAINING_STATE = ("model", "optimizer", "scheduler", "run", "rng")


@dataclass
class RunState:
    """What a checkpoint restores besides the RNG: progress and the per-epoch history."""

    next_epoch: int = 0
    best_pckh: float = float("-inf")
    history: list[dict[str, Any]] = field(default_factory=list)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def identification(cfg: TrainConfig, model: nn.Module) -> dict[str, Any]:
    """What every checkpoint of the run says about itself: model, trained size, recipe."""
    return {
        "model_name": cfg.model,
        "input_size": list(model.info.input_size),
        "config": config_record(cfg),
    }


def training_state(
    cfg: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    run: RunState,
    rng_states: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        **identification(cfg, model),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "run": asdict(run),
        "rng": rng_states,
    }


def resume_path(cfg: TrainConfig) -> Path | None:
    if cfg.resume is not None:
        return Path(cfg.resume)
    last = Path(cfg.out) / ckpt.LAST
    return last if cfg.auto_resume and last.is_file() else None


def load_resume_state(cfg: TrainConfig) -> tuple[Path | None, dict[str, Any] | None]:
    """The checkpoint to continue from, checked against ``cfg`` before anything is built."""
    source = resume_path(cfg)
    if source is None:
        return None, None
    try:
        state = ckpt.load_checkpoint(source, trust=cfg.trust_checkpoint)
    except CheckpointError as exc:
        if cfg.resume is not None:
            raise
        raise CheckpointError(f"{exc}; or start afresh with --restart") from None
    missing = [key for key in TRAINING_STATE if key not in state]
    if missing:
        raise CheckpointError(
            f"checkpoint {source} holds model weights only (no {', '.join(missing)}), not a "
            f"training state: resume from a last.pt, or use --restart to start afresh"
        )
    check_made_for(state, cfg.model, source)
    changes = config_changes(state.get("config", {}), cfg)
    if changes:
        raise UsageError(
            f"{source} was trained with other settings: {'; '.join(changes)}. Pass the saved "
            f"values to continue it, or --restart to start afresh in {cfg.out}"
        )
    return source, state


def restore(
    state: dict[str, Any],
    source: Path,
    cfg: TrainConfig,
    env: dist_utils.DistEnv,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
) -> RunState:
    model.load_state_dict(ckpt.model_state_from(state, source))
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    rng = state["rng"]
    if len(rng) == env.world_size:
        ckpt.restore_rng_state(rng[env.rank])
    else:  # another world size: data order and augmentation stay exact, other RNG streams restart
        seed_everything(cfg.seed + 7919 * env.rank + len(state["run"]["history"]))
    return RunState(**state["run"])
