"""pytest-benchmark suite of the model zoo: ``pytest bench --benchmark-only``.

Batch-1 fp32 inference of every registered model (GCPM paper protocol, Osokin 2019, Sec. 5.1).
On CUDA each model runs at its own input size; on a CPU at a reduced size (default 128x128) so
the whole suite stays short. The device, the size and the counts go into each benchmark's
``extra_info``; the environment record goes into ``machine_info``.

Options: ``--bench-device`` (auto / cpu / cuda[:N]) and ``--bench-size`` (H = W; 0 means each
model's own size).
"""

from __future__ import annotations

from typing import Optional

import pytest
import torch

CPU_SIZE = 128  # hourglass needs a multiple of 64; 128 keeps ratios meaningful and the run short


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gcpm-bench")
    group.addoption("--bench-device", default="auto", help="auto (cuda if available), cpu, cuda:N")
    group.addoption("--bench-size", type=int, default=None,
                    help=f"input H=W; 0 = each model's own; "
                         f"default: own on CUDA, {CPU_SIZE} on CPU")


def _device(config: pytest.Config) -> torch.device:
    spec = config.getoption("--bench-device")
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise pytest.UsageError(f"--bench-device {spec}: CUDA is not available")
    return device


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config) -> torch.device:
    return _device(pytestconfig)


@pytest.fixture(scope="session")
def bench_size(pytestconfig: pytest.Config, device: torch.device) -> Optional[tuple[int, int]]:
    """Input (H, W) override, or ``None`` for each model's own size."""
    size = pytestconfig.getoption("--bench-size")
    if size is None:
        size = 0 if device.type == "cuda" else CPU_SIZE
    return (size, size) if size else None


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    from bench.environment import environment_record

    machine_info["gcpm_bench"] = environment_record(_device(config))
