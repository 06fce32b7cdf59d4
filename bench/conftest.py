"""pytest-benchmark suite of the model zoo (``pytest bench --benchmark-only``; docs/benchmarks.md).
Options are checked before collection; ``machine_info`` holds only what stays put on a machine."""

from __future__ import annotations

import pytest
import torch

from architectures.errors import UserError
from architectures.registry import import_model_modules
from bench.measure.devices import resolve_device
from bench.measure.environment import environment_record
from bench.measure.runtimes import get_runtime, parse_spec

CPU_SIZE = 128  # hourglass needs a multiple of 64; 128 keeps ratios meaningful and the run short
SIZE_MULTIPLE = 64  # the largest size_multiple of the registered models (hourglass, FPD)
MAX_SIZE = 1024  # 4x the models' own 256: larger batch-1 inputs only measure memory pressure
RUNTIME_HELP = (
    "deployment runtime of bench.measure.runtimes (eager, onnxruntime, openvino, openvino:bf16, "
    "openvino:int8, onnxruntime:int8, compile, ...); default eager fp32"
)
MODELS_FROM_HELP = "also benchmark the models these modules register (importable dotted names)"


def pytest_addoption(parser: pytest.Parser) -> None:
    add = parser.getgroup("gcpm-bench").addoption
    add("--bench-device", default="auto", help="auto (cuda if available), cpu, cuda:N")
    size_help = f"input H=W, a multiple of {SIZE_MULTIPLE} up to {MAX_SIZE}; 0 = each model's own"
    add("--bench-size", type=int, help=f"{size_help}; default: own on CUDA, {CPU_SIZE} on CPU")
    add("--bench-runtime", default="eager", metavar="NAME[:PRECISION]", help=RUNTIME_HELP)
    add("--models-from", nargs="+", default=[], metavar="MODULE", help=MODELS_FROM_HELP)


def _device(config: pytest.Config) -> torch.device:
    try:
        return resolve_device(config.getoption("--bench-device"), option="--bench-device")
    except UserError as exc:
        raise pytest.UsageError(str(exc)) from None


def _runtime(config: pytest.Config) -> tuple[str, str]:
    """``--bench-runtime`` as (runtime, precision)."""
    try:
        name, precision = parse_spec(config.getoption("--bench-runtime"))
    except UserError as exc:
        raise pytest.UsageError(f"--bench-runtime: {exc}") from None
    return name, precision or get_runtime(name).precisions(_device(config))[0]


def _check_size(size: int | None) -> None:
    if size is not None and (size < 0 or size % SIZE_MULTIPLE or size > MAX_SIZE):
        raise pytest.UsageError(
            f"--bench-size {size}: must be 0 (each model's own size) or a multiple of "
            f"{SIZE_MULTIPLE} from {SIZE_MULTIPLE} to {MAX_SIZE} (every model must take it)"
        )


def pytest_configure(config: pytest.Config) -> None:
    _device(config)
    _runtime(config)
    _check_size(config.getoption("--bench-size"))
    try:  # before collection, which parametrises the benchmarks over the registered models
        import_model_modules(config.getoption("--models-from"))
    except UserError as exc:
        raise pytest.UsageError(str(exc)) from None


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


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    # pytest-benchmark's CPU record includes the momentary clock, which moves between runs.
    for key in ("hz_actual", "hz_actual_friendly"):
        (machine_info.get("cpu") or {}).pop(key, None)
    machine_info["gcpm_bench"] = environment_record(_device(config), volatile=False)
