"""What a training checkpoint holds, and how a run continues from one (docs/accuracy.md):
``last.pt`` is the whole training state, ``best.pt`` the best validated weights; both carry the
model name, input size and config, and a run continues only with the same model and recipe."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim import Optimizer

from architectures.errors import UsageError
from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training.checkpoint import CheckpointError
from bench.accuracy.training.config import TrainConfig, config_changes, config_record
from bench.accuracy.training.distributed import DistEnv
from bench.accuracy.training.model import check_made_for

TRAINING_STATE = ("model", "optimizer", "scheduler", "run", "rng")
Parts = tuple[nn.Module, Optimizer, Any]  # what a training state saves: model, optimizer, scheduler


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


def training_state(cfg: TrainConfig, parts: Parts, run: RunState, rng_states: list) -> dict:
    model, optimizer, scheduler = parts
    return {
        **identification(cfg, model),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "run": asdict(run),
        "rng": rng_states,
    }


def load_resume_state(cfg: TrainConfig) -> tuple[Path | None, dict[str, Any] | None]:
    """The checkpoint to continue from (``--resume``, else ``<out>/last.pt`` unless
    ``--restart``), checked against ``cfg`` before anything is built."""
    source = Path(cfg.resume) if cfg.resume is not None else Path(cfg.out) / ckpt.LAST
    if cfg.resume is None and not (cfg.auto_resume and source.is_file()):
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


def restore(state: dict, source: Path, cfg: TrainConfig, env: DistEnv, parts: Parts) -> RunState:
    model, optimizer, scheduler = parts
    model.load_state_dict(ckpt.model_state_from(state, source))
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    rng = state["rng"]
    if len(rng) == env.world_size:
        ckpt.restore_rng_state(rng[env.rank])
    else:  # another world size: data order and augmentation stay exact, other RNG streams restart
        seed_everything(cfg.seed + 7919 * env.rank + len(state["run"]["history"]))
    return RunState(**state["run"])
