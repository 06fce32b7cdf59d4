"""DDP plumbing for ``torchrun`` starts (RANK / WORLD_SIZE / LOCAL_RANK); else a single process."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from architectures.errors import UserError


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_from_environ() -> DistEnv:
    get = os.environ.get
    return DistEnv(int(get("RANK", "0")), int(get("WORLD_SIZE", "1")), int(get("LOCAL_RANK", "0")))


@contextmanager
def process_group(env: DistEnv, device: torch.device) -> Iterator[None]:
    """The process group of a ``torchrun`` start for the block; nothing for a single process."""
    if env.world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)  # NCCL uses the current device of each rank
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=env.rank, world_size=env.world_size)
    try:
        yield
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def broadcast_float(value: float, device: torch.device, mean: bool = False) -> float:
    """Rank 0's value on every rank (e.g. the validation PCKh), or with ``mean`` the ranks' mean."""
    if not dist.is_initialized():
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    if mean:
        dist.all_reduce(tensor)
        return float(tensor.item()) / dist.get_world_size()
    dist.broadcast(tensor, src=0)
    return float(tensor.item())


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def gather_objects(mine: Any) -> list[Any]:
    """Every rank's ``mine`` in rank order (one entry without distributed)."""
    if not dist.is_initialized():
        return [mine]
    found: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(found, mine)
    return found


def gather_digests(model: nn.Module) -> list[str]:
    """Every rank's SHA-256 of its parameters, bit-exact, so a run can check the replicas agree;
    not of buffers: each rank's BatchNorm statistics reflect its own shard (no SyncBN)."""
    digest = hashlib.sha256()
    for name, tensor in model.named_parameters():
        digest.update(name.encode())
        flat = tensor.detach().cpu().reshape(-1).contiguous()
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return gather_objects(digest.hexdigest())


def on_main(env: DistEnv, action: Callable[[], Any]) -> None:
    """Run ``action`` on rank 0; a user error there is raised on every rank (none waits forever)."""
    error = None
    if env.is_main:
        try:
            action()
        except UserError as exc:
            error = exc
    if dist.is_initialized():
        box = [error]
        dist.broadcast_object_list(box, src=0)
        error = box[0]
    if error is not None:
        raise error
