"""The epoch loop of ``python -m bench.train``: GCPM's loss and schedule (Osokin 2019, Sec. 3.2),
resumable exactly from ``last.pt`` (the data order depends on (seed, epoch) only); docs/accuracy.md.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm import tqdm

from architectures.errors import UsageError
from architectures.registry import build_at_size
from bench.accuracy.evaluation import evaluate_model
from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training import distributed as dist_utils
from bench.accuracy.training.config import (
    ScheduleConfig,
    TrainConfig,
    config_changes,
    config_record,
)
from bench.accuracy.training.data import build_datasets, prepare_data
from bench.accuracy.training.distributed import DistEnv
from bench.accuracy.training.guards import LOG_NAME, claim_output, preflight
from bench.accuracy.training.model import check_made_for, load_backbone_weights
from bench.measure.devices import resolve_device
from bench.report.files import torch_save, write_text

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
    made = {"model_name": cfg.model, "input_size": list(model.info.input_size)}
    return {**made, "config": config_record(cfg)}


def load_resume_state(cfg: TrainConfig) -> tuple[Path | None, dict[str, Any] | None]:
    """``--resume``, else ``<out>/last.pt`` unless ``--restart``, checked against ``cfg``."""
    source = Path(cfg.resume) if cfg.resume is not None else Path(cfg.out) / ckpt.LAST
    if cfg.resume is None and not (cfg.auto_resume and source.is_file()):
        return None, None
    try:
        state = ckpt.load_checkpoint(source, trust=cfg.trust_checkpoint)
    except ckpt.CheckpointError as exc:
        if cfg.resume is not None:
            raise
        raise ckpt.CheckpointError(f"{exc}; or start afresh with --restart") from None
    missing = [key for key in TRAINING_STATE if key not in state]
    if missing:
        raise ckpt.CheckpointError(
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


def build_scheduler(optimizer: Optimizer, lr: float, cfg: ScheduleConfig) -> ReduceLROnPlateau:
    """At most ``cfg.max_reductions`` reductions (through ``min_lr``: a plain, storable state)."""
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


def make_loader(dataset: Dataset, cfg: TrainConfig, env: DistEnv, epoch: int) -> DataLoader:
    sampler = DistributedSampler(dataset, env.world_size, env.rank, shuffle=True, seed=cfg.seed)
    sampler.set_epoch(epoch)
    if hasattr(dataset, "set_epoch"):  # PoseDataset draws augmentations from (seed, epoch, index)
        dataset.set_epoch(epoch)
    return DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        sampler=sampler,
        num_workers=cfg.workers,
        # seeds the workers' augmentation RNGs from (seed, epoch, rank) alone
        generator=torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch * 1009 + env.rank),
    )


def train_one_epoch(
    model: nn.Module, loader, optimizer: Optimizer, device: torch.device, show: bool, desc: str
) -> float:
    """Mean of the per-batch losses (sum over stages) of this rank."""
    model.train()
    losses = []
    bar = tqdm(loader, desc=desc, disable=None if show else True, leave=False, dynamic_ncols=True)
    for batch in bar:
        loss = multi_stage_loss(model(batch["image"].to(device)), batch["heatmaps"].to(device))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{desc}: loss became {loss.item()} at batch {len(losses)}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.4g}")
    return float(np.mean(losses)) if losses else float("nan")


def _write_log(out: Path, records: list[dict[str, Any]]) -> None:
    """The whole log, rewritten atomically from the run's history: it always matches last.pt."""
    write_text(out / LOG_NAME, "".join(json.dumps(record) + "\n" for record in records))


def fit(cfg: TrainConfig, on_epoch_end: Callable[[int, dict], None] | None = None) -> RunState:
    """Train ``cfg.model``; inputs, device and ``--out`` (locked) are checked before any work."""
    preflight(cfg)
    env = dist_utils.env_from_environ()
    device = resolve_device(cfg.device, local_rank=env.local_rank)
    with dist_utils.process_group(env, device), ExitStack() as stack:
        dist_utils.on_main(env, lambda: stack.enter_context(claim_output(cfg)))
        return _fit(cfg, env, device, on_epoch_end)


def _build(cfg: TrainConfig, env: DistEnv) -> nn.Module:
    seed_everything(cfg.seed)  # the same initial weights on every rank
    model = build_at_size(cfg.model, cfg.input_size)
    if cfg.backbone_weights is not None:
        report = load_backbone_weights(model, Path(cfg.backbone_weights), cfg.trust_checkpoint)
        if env.is_main:
            print(report.summary())
    return model


def _fit(cfg: TrainConfig, env: DistEnv, device: torch.device, on_epoch_end) -> RunState:
    source, state = load_resume_state(cfg)
    model = _build(cfg, env).to(device)
    dist_utils.on_main(env, lambda: prepare_data(cfg, model.info))  # generated data is written once
    train_set, val_set = build_datasets(cfg, model.info)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    scheduler = build_scheduler(optimizer, cfg.lr, cfg.schedule)
    run = RunState()
    if state is not None:
        run = restore(state, source, cfg, env, (model, optimizer, scheduler))
        if env.is_main:
            print(f"resumed from {source} at epoch {run.next_epoch}")
    else:
        seed_everything(cfg.seed + 7919 * env.rank)  # per-rank augmentation streams
    net = DistributedDataParallel(model) if env.world_size > 1 else model
    for epoch in range(run.next_epoch, cfg.epochs):
        started = time.perf_counter()
        loader = make_loader(train_set, cfg, env, epoch)
        desc = f"epoch {epoch + 1}/{cfg.epochs} training"
        loss = train_one_epoch(net, loader, optimizer, device, cfg.progress and env.is_main, desc)
        pckh = _validate(model, val_set, cfg, env, device, epoch)
        if pckh is not None:
            scheduler.step(pckh)
        record = {
            "epoch": epoch + 1,
            "train_loss": dist_utils.broadcast_float(loss, device, mean=True),
            "val_pckh": pckh,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - started,
            "world_size": env.world_size,
            "train_samples_per_rank": len(loader.sampler),
        }
        run.history.append(record)
        run.next_epoch = epoch + 1
        improved = pckh is not None and pckh > run.best_pckh
        run.best_pckh = max(run.best_pckh, pckh) if pckh is not None else run.best_pckh
        _save(cfg, env, (model, optimizer, scheduler), run, improved)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, record)
    _report_sync(model, env, cfg, run)
    return run


def _validate(
    model: nn.Module, val_set, cfg: TrainConfig, env: DistEnv, device: torch.device, epoch: int
) -> float | None:
    """Rank 0 scores the unwrapped model; every rank gets its PCKh (the scheduler needs it)."""
    if (epoch + 1) % cfg.validate_every and epoch + 1 != cfg.epochs:
        return None
    pckh = 0.0
    if env.is_main:
        batches = math.ceil(len(val_set) / cfg.batch_size)
        desc = f"epoch {epoch + 1}/{cfg.epochs} validation"
        with tqdm(total=batches, desc=desc, disable=None if cfg.progress else True) as bar:
            options = {"batch_size": cfg.batch_size, "workers": cfg.workers, "on_batch": bar.update}
            pckh = evaluate_model(model, val_set, device=device, **options)["PCKh"]
    return dist_utils.broadcast_float(pckh, device)


def _save(cfg: TrainConfig, env: DistEnv, parts: Parts, run: RunState, improved: bool) -> None:
    """``last.pt`` and the log every epoch, ``best.pt`` when validation improved."""
    rng_states = dist_utils.gather_objects(ckpt.capture_rng_state())  # each rank's own stream
    if env.is_main:
        model, optimizer, scheduler = parts
        state = {
            **identification(cfg, model),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "run": asdict(run),
            "rng": rng_states,
        }
        out, record = Path(cfg.out), run.history[-1]
        torch_save(state, out / ckpt.LAST)
        if improved:
            best = {"model": state["model"], "epoch": record["epoch"], "val_pckh": run.best_pckh}
            torch_save({**identification(cfg, model), **best}, out / ckpt.BEST)
        _write_log(out, run.history)
        print(json.dumps(record))
    dist_utils.barrier()


def _report_sync(model: nn.Module, env: DistEnv, cfg: TrainConfig, run: RunState) -> None:
    """Record every rank's parameter digest: DDP's claim that replicas stay equal, checked."""
    digests = dist_utils.gather_digests(model)
    if env.is_main:
        in_sync = len(set(digests)) == 1
        _write_log(Path(cfg.out), run.history + [{"param_digests": digests, "in_sync": in_sync}])
        if not in_sync:
            raise RuntimeError(f"DDP replicas diverged: parameter digests {digests}")
