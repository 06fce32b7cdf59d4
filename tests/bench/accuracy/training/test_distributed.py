"""DDP on CPU: two gloo processes (torch.multiprocessing.spawn) train and stay bit-identical."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from bench.accuracy.training import distributed as dist_utils
from bench.accuracy.training.loop import LOG_NAME, fit
from tests.helpers import cpu_train_config, generated_root
from tests.tiny_models import TinyPose, register_tiny

TINY = "test-tiny-ddp"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _set_env(rank: int, world: int, port: int) -> None:
    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )


def _worker(rank: int, world: int, ports: tuple[int, int], root: str, out: str) -> None:
    """One spawn for both checks: process start-up dominates the cost of this test."""
    torch.set_num_threads(1)
    register_tiny(TINY)  # a spawned process starts with the package's models only
    _sync_check(rank, world, ports[0], out)
    _set_env(rank, world, ports[1])
    fit(
        cpu_train_config(
            TINY, Path(root), Path(out, "run"), epochs=2, batch_size=2, lr=1e-2, seed=1
        )
    )


def _sync_check(rank: int, world: int, port: int, out: str) -> None:
    """Raw DDP steps on different data per rank, then a deliberate divergence on rank 1."""
    _set_env(rank, world, port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(rank)  # different initial weights: DDP must broadcast rank 0's
    model = DistributedDataParallel(TinyPose())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        loss = sum(out.pow(2).mean() for out in model(torch.randn(2, 3, 64, 64)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    synced = len(set(dist_utils.gather_digests(model.module))) == 1
    if rank == 1:
        with torch.no_grad():
            model.module.stage2.bias[0] += 1e-6
    diverged = len(set(dist_utils.gather_digests(model.module))) != 1
    Path(out, f"sync{rank}.json").write_text(json.dumps({"synced": synced, "diverged": diverged}))
    dist.destroy_process_group()


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_root(tmp_path_factory, "lip", num_images=12, seed=4)


@pytest.fixture(scope="module")
def ddp_out(lip_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ddp")
    mp.spawn(
        _worker,
        args=(2, (_free_port(), _free_port()), str(lip_root), str(out)),
        nprocs=2,
        join=True,
    )
    return out


def test_ddp_steps_keep_replicas_identical_and_divergence_is_detected(ddp_out: Path) -> None:
    for rank in (0, 1):
        result = json.loads((ddp_out / f"sync{rank}.json").read_text())
        assert result == {"synced": True, "diverged": True}, rank


def test_fit_under_two_gloo_ranks_shards_data_and_ends_in_sync(ddp_out: Path) -> None:
    out = ddp_out / "run"
    records = [json.loads(line) for line in (out / LOG_NAME).read_text().splitlines()]
    epochs, final = records[:-1], records[-1]
    assert [r["epoch"] for r in epochs] == [1, 2]
    assert all(r["world_size"] == 2 for r in epochs)
    assert epochs[0]["train_samples_per_rank"] == 5  # 9 training images split over 2 ranks, padded
    assert len(final["param_digests"]) == 2 and final["in_sync"] is True
    assert len(set(final["param_digests"])) == 1
    assert (out / "last.pt").is_file()
