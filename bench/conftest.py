"""pytest-benchmark suite of the model zoo: ``pytest bench --benchmark-only``.

Batch-1 fp32 inference of every registered model (GCPM paper protocol, Osokin 2019, Sec. 5.1).
On CUDA each model runs at its own input size; on a CPU at a reduced size (default 128x128) so
the whole suite stays short. The device, the size, the counts, the numerics flags and the GPU's
momentary state (clocks, temperature, throttling during the benchmark) go into each benchmark's
``extra_info``; ``machine_info`` holds only what stays put on one machine (versions, hardware,
settings), so ``--benchmark-compare`` between two runs there does not warn about clocks.

Options: ``--bench-device`` (auto / cpu / cuda[:N]; checked once at start, a device this machine
lacks ends the run with one line), ``--bench-size`` (H = W; 0 means each model's own size) and
``--bench-runtime`` (a ``bench.measure.runtimes`` adapter, e.g. ``openvino:bf16`` or
``openvino:int8``; default eager) and ``--models-from MODULE`` (modules whose ``@register_model``
builders join the benchmarked models).
"""

from __future__ import annotations

import pytest
import torch

from architectures.errors import DeviceError, UnknownNameError, UsageError
from architectures.registry import import_model_modules
from bench.measure.devices import resolve_device
from bench.measure.environment import environment_record
from bench.measure.runtimes import get_runtime, parse_spec

CPU_SIZE = 128  # hourglass needs a multiple of 64; 128 keeps ratios meaningful and the run short
SIZE_MULTIPLE = 64  # the largest size_multiple of the registered models (hourglass, FPD)
MAX_SIZE = 1024  # 4x the models' own 256: larger batch-1 inputs only measure memory pressure


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gcpm-bench")
    group.addoption("--bench-device", default="auto", help="auto (cuda if available), cpu, cuda:N")
    group.addoption(
        "--bench-size",
        type=int,
        default=None,
        help=f"input H=W, a multiple of {SIZE_MULTIPLE} up to {MAX_SIZE}; 0 = each model's "
        f"own; default: own on CUDA, {CPU_SIZE} on CPU",
    )
    group.addoption(
        "--bench-runtime",
        default="eager",
        metavar="NAME[:PRECISION]",
        help="deployment runtime of bench.measure.runtimes (eager, onnxruntime, openvino, "
        "openvino:bf16, openvino:int8, onnxruntime:int8, compile, ...); default eager fp32",
    )
    group.addoption(
        "--models-from",
        nargs="+",
        default=[],
        metavar="MODULE",
        help="also benchmark the models these modules register (dotted names importable from "
        "the current folder)",
    )


def _device(config: pytest.Config) -> torch.device:
    try:
        return resolve_device(config.getoption("--bench-device"), option="--bench-device")
    except DeviceError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    # Checked once, before collection: a missing GPU is one usage error, not one per model.
    _device(config)
    _runtime(config)
    _check_size(config.getoption("--bench-size"))
    try:  # before collection, which parametrises the benchmarks over the registered models
        import_model_modules(config.getoption("--models-from"))
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None


def _check_size(size: int | None) -> None:
    """Every model takes the size, or the run ends with one usage error (not a failed test each)."""
    if size is not None and (size < 0 or size % SIZE_MULTIPLE or size > MAX_SIZE):
        raise pytest.UsageError(
            f"--bench-size {size}: must be 0 (each model's own size) or a multiple of "
            f"{SIZE_MULTIPLE} from {SIZE_MULTIPLE} to {MAX_SIZE} (every model must take it)"
        )


def _runtime(config: pytest.Config) -> tuple[str, str]:
    """``--bench-runtime`` as (runtime, precision); an unknown name is one usage error."""
    try:
        name, precision = parse_spec(config.getoption("--bench-runtime"))
    except UnknownNameError as exc:
        raise pytest.UsageError(f"--bench-runtime: {exc}") from None
    return name, precision or get_runtime(name).precisions(_device(config))[0]


@pytest.fixture(scope="session")
def bench_runtime(pytestconfig: pytest.Config) -> tuple[str, str]:
    return _runtime(pytestconfig)


@pytest.fixture(scope="session")
def device(pytestconfig: pytest.Config) -> torch.device:
    return _device(pytestconfig)


@pytest.fixture(scope="session")
def bench_size(pytestconfig: pytest.Config, device: torch.device) -> tuple[int, int] | None:
    """Input (H, W) override, or ``None`` for each model's own size."""
    size = pytestconfig.getoption("--bench-size")
    if size is None:
        size = 0 if device.type == "cuda" else CPU_SIZE
    return (size, size) if size else None


# pytest-benchmark's own CPU record (py-cpuinfo) includes the momentary clock: it moves between
# runs on one machine and would make every --benchmark-compare warn.
_VOLATILE_CPU_KEYS = ("hz_actual", "hz_actual_friendly")


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    cpu = machine_info.get("cpu")
    if isinstance(cpu, dict):
        for key in _VOLATILE_CPU_KEYS:
            cpu.pop(key, None)
    machine_info["gcpm_bench"] = environment_record(_device(config), volatile=False)
