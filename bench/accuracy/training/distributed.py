"""torch.distributed plumbing for multi-GPU training (DDP started with ``torchrun``).

``torchrun`` sets RANK / WORLD_SIZE / LOCAL_RANK; without them the run is a single process. The
backend follows the device: NCCL for CUDA, gloo for CPU. Parameters of DDP replicas are equal after
every optimiser step by construction; :func:`gather_digests` lets a run check that claim at its
end.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
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
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_from_environ() -> DistEnv:
    """Read the variables ``torchrun`` sets; defaults describe a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return DistEnv(
        rank=int(os.environ.get("RANK", "0")),
        world_size=world,
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def backend_for(device: torch.device) -> str:
    return "nccl" if device.type == "cuda" else "gloo"


def init_distributed(env: DistEnv, device: torch.device) -> None:
    if env.enabled and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)  # NCCL uses the current device of each rank
        dist.init_process_group(
            backend=backend_for(device), rank=env.rank, world_size=env.world_size
        )


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def broadcast_float(value: float, device: torch.device) -> float:
    """Rank 0's value on every rank (e.g. the validation PCKh that drives the scheduler)."""
    if not dist.is_initialized():
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.broadcast(tensor, src=0)
    return float(tensor.item())


def broadcast_object(value: Any) -> Any:
    """Rank 0's (picklable) ``value`` on every rank; the value itself without distributed."""
    if not dist.is_initialized():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean_across_ranks(value: float, device: torch.device) -> float:
    if not dist.is_initialized():
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return float(tensor.item()) / dist.get_world_size()


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def parameter_digest(model: nn.Module) -> str:
    """SHA-256 of every parameter, bit-exact, in registration order.

    Buffers are left out on purpose: DDP broadcasts them from rank 0 at the start of each forward,
    so after the last step each rank's BatchNorm running statistics reflect its own shard.
    """
    digest = hashlib.sha256()
    for name, tensor in model.named_parameters():
        digest.update(name.encode())
        digest.update(
            tensor.detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes()
        )
    return digest.hexdigest()


def gather_digests(model: nn.Module) -> list[str]:
    """Every rank's :func:`parameter_digest`, in rank order (one entry without distributed)."""
    mine = parameter_digest(model)
    if not dist.is_initialized():
        return [mine]
    digests: list[str] = [""] * dist.get_world_size()
    dist.all_gather_object(digests, mine)
    return digests


def on_main(env: DistEnv, action: Callable[[], Any]) -> None:
    """Run ``action`` on rank 0; a user error there is raised on every rank (none waits forever)."""
    error = None
    if env.is_main:
        try:
            action()
        except UserError as exc:
            error = exc
    error = broadcast_object(error)
    if error is not None:
        raise error
