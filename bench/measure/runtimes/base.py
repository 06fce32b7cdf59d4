"""Runtime adapters: prepare a network once, hand the timer a callable. Registered by name.

A runtime (eager PyTorch, torch.compile, ONNX Runtime, OpenVINO, TensorRT, ...) is an adapter,
not a branch in the harness: ``prepare(model, example, precision, threads)`` converts / compiles
the network for one batch-1 input and returns a :class:`Prepared` whose ``run`` is the timed call.
The timer, the interleaved rounds and the statistics never learn which runtime they time.

A runtime that cannot run here (library not installed, needs a GPU, precision not native on this
CPU) says why in ``unavailable_reason``; the harness turns that into a NaN row with the reason.
"""

from __future__ import annotations

import contextlib
import importlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")
TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class Prepared:
    """A network ready to time: ``run()`` is one batch-1 inference on the bound input.

    ``heatmaps(result)`` turns what ``run()`` returned into the final heatmaps (N, K, h, w) as a
    float numpy array; it is called outside the timed region, for validation only.
    ``prepare_s`` is the one-off cost (export, conversion, compilation), reported apart.
    """

    run: Callable[[], Any]
    heatmaps: Callable[[Any], np.ndarray]
    prepare_s: float = math.nan


class Runtime(Protocol):
    """What every adapter provides; ``name`` is its registry key."""

    name: str
    gpu_only: bool

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        """Precisions measured when the user names only the runtime."""

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        """Empty when the runtime can run ``precision`` on ``device``, else why not (one line)."""

    def prepare(
        self, model: nn.Module, example: torch.Tensor, precision: str, threads: int
    ) -> Prepared:
        """Convert / compile ``model`` for ``example``; raises on failure (the row keeps why)."""


_RUNTIMES: dict[str, Runtime] = {}


def register_runtime(runtime: Runtime) -> Runtime:
    if runtime.name in _RUNTIMES:
        raise ValueError(f"runtime {runtime.name!r} is already registered")
    _RUNTIMES[runtime.name] = runtime
    return runtime


def list_runtimes() -> list[str]:
    return list(_RUNTIMES)


def get_runtime(name: str) -> Runtime:
    if name not in _RUNTIMES:
        raise KeyError(f"unknown runtime {name!r}; known runtimes: {', '.join(_RUNTIMES)}")
    return _RUNTIMES[name]


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"openvino"`` -> ("openvino", None); ``"openvino:bf16"`` -> ("openvino", "bf16")."""
    name, _, precision = spec.partition(":")
    get_runtime(name)
    if precision and precision not in PRECISIONS:
        raise KeyError(
            f"runtime {spec!r}: unknown precision {precision!r}; "
            f"known precisions: {', '.join(PRECISIONS)}"
        )
    return name, precision or None


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (at most 200 characters) for a reason column."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {line[:200]}".rstrip(": ")


def missing_module(module: str, install: str) -> str:
    """Empty when ``module`` imports, else a reason naming the package to install."""
    try:
        importlib.import_module(module)
    except ImportError as exc:  # also None in sys.modules, which tests use to hide a package
        return f"{module} is not installed ({install}): {first_line(exc)}"
    return ""


def needs_cuda(device: torch.device) -> str:
    return "" if device.type == "cuda" else f"needs a CUDA device (this run's device is {device})"


class FinalHeatmaps(nn.Module):
    """The network with only its prediction as output, as a deployment exports it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[-1]


def as_numpy(value: Any) -> np.ndarray:
    """Tensors, arrays and runtime tensors (``.numpy()`` / ``.data``) as a float32 array."""
    if torch.is_tensor(value):
        return value.detach().float().cpu().numpy()
    if hasattr(value, "numpy"):
        return np.asarray(value.numpy(), dtype=np.float32)
    return np.asarray(getattr(value, "data", value), dtype=np.float32)


@contextlib.contextmanager
def autocast(device: torch.device, precision: str, cache: bool = True) -> Iterator[None]:
    """torch autocast for bf16 / fp16 (PyTorch's own mixed precision); nothing for fp32.

    ``cache=False`` for CUDA graph capture, which must not keep autocast's cast weights.
    """
    if precision == "fp32":
        yield
        return
    with torch.autocast(
        device_type=device.type, dtype=TORCH_DTYPES[precision], cache_enabled=cache
    ):
        yield
