"""The run behind ``python -m bench.train``: GCPM's recipe (Osokin 2019, Sec. 3.2) for any model.

One epoch = one pass over the training split in a seeded order (``DistributedSampler`` with
``set_epoch``, also for a single process, so the order is a function of (seed, epoch) only); then
validation PCKh on rank 0, the plateau scheduler step, a JSONL log line and an atomic checkpoint.
Checkpoints are taken at epoch ends: a run killed mid-epoch repeats that epoch from its start, which
reproduces it exactly. Under ``torchrun`` the model is wrapped in DDP and every rank sees its shard
of each epoch; BatchNorm statistics stay per rank (no SyncBN), as in the paper's single-GPU setting.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm import tqdm

from bench.training import checkpoint as ckpt
from bench.training import distributed as dist_utils
from bench.training.config import TrainConfig
from bench.training.data import (
    build_datasets,
    build_model,
    prepare_data,
    split_batch,
    validate_pckh,
)
from bench.training.loss import multi_stage_loss
from bench.training.schedule import build_optimizer, build_scheduler, current_lr

EpochCallback = Callable[[int, dict[str, Any]], None]
LOG_NAME = "log.jsonl"


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


def epoch_generator(seed: int, epoch: int, rank: int) -> torch.Generator:
    """Seeds DataLoader workers' RNGs (augmentation) from (seed, epoch, rank) alone."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 1009 + rank)


def make_loader(
    dataset: Dataset, cfg: TrainConfig, env: dist_utils.DistEnv, epoch: int
) -> DataLoader:
    sampler = DistributedSampler(
        dataset,
        num_replicas=env.world_size,
        rank=env.rank,
        shuffle=True,
        seed=cfg.seed,
        drop_last=False,
    )
    sampler.set_epoch(epoch)
    if hasattr(dataset, "set_epoch"):  # PoseDataset draws augmentations from (seed, epoch, index)
        dataset.set_epoch(epoch)
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        sampler=sampler,
        num_workers=cfg.workers,
        generator=epoch_generator(cfg.seed, epoch, env.rank),
        drop_last=False,
        pin_memory=False,
        persistent_workers=False,
    )


def train_one_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    show: bool,
    desc: str,
) -> float:
    """Mean of the per-batch losses (sum over stages) of this rank."""
    model.train()
    losses = []
    bar = tqdm(loader, desc=desc, disable=not show, leave=False, dynamic_ncols=True)
    for batch in bar:
        images, targets = split_batch(batch, device)
        loss = multi_stage_loss(model(images), targets)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{desc}: loss became {loss.item()} at batch {len(losses)}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.4g}")
    return float(np.mean(losses)) if losses else float("nan")


def _checkpoint_state(
    model: nn.Module,
    optimizer,
    scheduler,
    run: RunState,
    cfg: TrainConfig,
    rng_states: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "run": asdict(run),
        "rng": rng_states,
        "model_name": cfg.model,
        "config": {k: str(v) for k, v in asdict(cfg).items()},
    }


def _gather_rng_states() -> list[dict[str, Any]]:
    """Every rank's RNG state (rank order), so each rank resumes its own stream."""
    mine = ckpt.capture_rng_state()
    if not dist.is_initialized():
        return [mine]
    states: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(states, mine)
    return states


def resume_path(cfg: TrainConfig) -> Optional[Path]:
    if cfg.resume is not None:
        return Path(cfg.resume)
    last = Path(cfg.out) / ckpt.LAST
    return last if cfg.auto_resume and last.is_file() else None


def load_resume_state(cfg: TrainConfig) -> tuple[Optional[Path], Optional[dict[str, Any]]]:
    """The checkpoint to continue from, checked against ``cfg.model`` before anything is built."""
    source = resume_path(cfg)
    if source is None:
        return None, None
    state = ckpt.load_checkpoint(source)
    if state.get("model_name") != cfg.model:
        raise ValueError(
            f"checkpoint {source} is for model {state.get('model_name')!r}, not {cfg.model!r}"
        )
    return source, state


def restore(
    state: dict[str, Any],
    source: Path,
    cfg: TrainConfig,
    env: dist_utils.DistEnv,
    model: nn.Module,
    optimizer,
    scheduler,
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


def _write_log(out: Path, records: list[dict[str, Any]]) -> None:
    """The whole log, rewritten atomically from the run's history: it always matches last.pt."""
    from bench.io import write_text

    write_text(out / LOG_NAME, "".join(json.dumps(record) + "\n" for record in records))


def fit(cfg: TrainConfig, on_epoch_end: Optional[EpochCallback] = None) -> RunState:
    """Train ``cfg.model`` on ``cfg.dataset``; returns the run's state (its epoch records)."""
    env = dist_utils.env_from_environ()
    device = dist_utils.resolve_device(cfg.device, env)
    dist_utils.init_distributed(env, device)
    try:
        return _fit(cfg, env, device, on_epoch_end)
    finally:
        dist_utils.shutdown_distributed()


def _fit(
    cfg: TrainConfig,
    env: dist_utils.DistEnv,
    device: torch.device,
    on_epoch_end: Optional[EpochCallback],
) -> RunState:
    source, state = load_resume_state(cfg)
    seed_everything(cfg.seed)  # the same initial weights on every rank
    model = build_model(cfg, log=env.is_main).to(device)
    if env.is_main:  # generated data is written once, not by every rank at the same time
        prepare_data(cfg, model.info)
    dist_utils.barrier()
    train_set, val_set = build_datasets(cfg, model.info)
    optimizer = build_optimizer(model.parameters(), cfg.lr)
    scheduler = build_scheduler(optimizer, cfg.lr, cfg.schedule)
    run = RunState()
    if state is not None:
        run = restore(state, source, cfg, env, model, optimizer, scheduler)
        if env.is_main:
            print(f"resumed from {source} at epoch {run.next_epoch}")
    else:
        seed_everything(cfg.seed + 7919 * env.rank)  # per-rank augmentation streams
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    net = DistributedDataParallel(model) if env.enabled else model
    for epoch in range(run.next_epoch, cfg.epochs):
        started = time.perf_counter()
        loader = make_loader(train_set, cfg, env, epoch)
        loss = train_one_epoch(
            net,
            loader,
            optimizer,
            device,
            cfg.progress and env.is_main,
            f"epoch {epoch + 1}/{cfg.epochs}",
        )
        loss = dist_utils.mean_across_ranks(loss, device)
        pckh = _validate(model, val_set, cfg, env, device, epoch)
        if pckh is not None:
            scheduler.step(pckh)
        record = {
            "epoch": epoch + 1,
            "train_loss": loss,
            "val_pckh": pckh,
            "lr": current_lr(optimizer),
            "seconds": time.perf_counter() - started,
            "world_size": env.world_size,
            "train_samples_per_rank": len(loader.sampler),
        }
        run.history.append(record)
        run.next_epoch = epoch + 1
        improved = pckh is not None and pckh > run.best_pckh
        run.best_pckh = max(run.best_pckh, pckh) if pckh is not None else run.best_pckh
        _save(cfg, env, model, optimizer, scheduler, run, improved, record)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, record)
    _report_sync(model, env, cfg, run)
    return run


def _validate(
    model: nn.Module,
    val_set,
    cfg: TrainConfig,
    env: dist_utils.DistEnv,
    device: torch.device,
    epoch: int,
) -> Optional[float]:
    """Rank 0 scores the unwrapped model; every rank gets its PCKh (the scheduler needs it)."""
    if (epoch + 1) % cfg.validate_every and epoch + 1 != cfg.epochs:
        return None
    pckh = validate_pckh(model, val_set, cfg, device) if env.is_main else 0.0
    return dist_utils.broadcast_float(pckh, device)


def _save(
    cfg: TrainConfig,
    env: dist_utils.DistEnv,
    model: nn.Module,
    optimizer,
    scheduler,
    run: RunState,
    improved: bool,
    record: dict[str, Any],
) -> None:
    rng_states = _gather_rng_states()  # collective: every rank takes part
    if env.is_main:
        state = _checkpoint_state(model, optimizer, scheduler, run, cfg, rng_states)
        out = Path(cfg.out)
        ckpt.atomic_torch_save(state, out / ckpt.LAST)
        if improved:
            ckpt.atomic_torch_save(
                {
                    "model": state["model"],
                    "model_name": cfg.model,
                    "epoch": record["epoch"],
                    "val_pckh": record["val_pckh"],
                },
                out / ckpt.BEST,
            )
        _write_log(out, run.history)
        print(json.dumps(record))
    dist_utils.barrier()


def _report_sync(
    model: nn.Module, env: dist_utils.DistEnv, cfg: TrainConfig, run: RunState
) -> None:
    """Record every rank's parameter digest: DDP's claim that replicas stay equal, checked."""
    digests = dist_utils.gather_digests(model)
    if env.is_main:
        sync = {"param_digests": digests, "in_sync": len(set(digests)) == 1}
        _write_log(Path(cfg.out), run.history + [sync])
        if len(set(digests)) != 1:
            raise RuntimeError(f"DDP replicas diverged: parameter digests {digests}")
