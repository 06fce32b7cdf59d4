"""Runtime adapters: prepare a network once, hand the timer a callable.

A runtime (eager PyTorch, torch.compile, ONNX Runtime, OpenVINO, TensorRT, ...) is an adapter,
not a branch in the harness: ``prepare(model, example, precision, threads, calibration)``
converts / compiles the network for one batch-1 input and returns a :class:`Prepared` whose
``run`` is the timed call. The timer, the interleaved rounds and the statistics never learn which
runtime they time. Adapters are listed by name in :mod:`bench.measure.runtimes`.

A runtime that cannot run here (library not installed, needs a GPU, precision not native on this
CPU) says why in ``unavailable_reason``; the harness turns that into a NaN row with the reason.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from torch import nn

if TYPE_CHECKING:
    from bench.measure.runtimes.calibration import Calibration

TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class Prepared:
    """A network ready to time: ``run()`` is one batch-1 inference on the bound input.

    ``heatmaps(result)`` turns what ``run()`` returned into the final heatmaps (N, K, h, w) as a
    float numpy array; ``infer(images)`` runs another batch-1 input (NCHW float32 array) through
    the same prepared network and returns its final heatmaps (for scoring on a validation split).
    Both are called outside the timed region. ``prepare_s`` is the one-off cost (export,
    conversion, compilation), reported apart; ``notes`` say what the runtime really ran (int8
    kernels, calibration data).
    """

    run: Callable[[], Any]
    heatmaps: Callable[[Any], np.ndarray]
    infer: Callable[[np.ndarray], np.ndarray]
    prepare_s: float = math.nan
    notes: str = ""


class Runtime(Protocol):
    """What every adapter provides; ``name`` is its key in ``bench.measure.runtimes.RUNTIMES``."""

    name: str
    gpu_only: bool

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        """Precisions measured when the user names only the runtime."""

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        """Empty when the runtime can run ``precision`` on ``device``, else why not (one line)."""

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        precision: str,
        threads: int,
        calibration: Calibration | None = None,
    ) -> Prepared:
        """Convert / compile ``model`` for ``example``; raises on failure (the row keeps why).

        ``calibration``: where int8 calibration images come from (generated when ``None``)."""


def quiet_cpp_extension() -> None:
    """torch's C++ extension loader (imported by inductor and NNCF) warns on a CPU-only machine
    that no CUDA runtime is found; that is expected there, not news for the user."""
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)


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


def cpu_only(device: torch.device) -> str:
    return "" if device.type == "cpu" else f"runs on the CPU (this run's device is {device})"


def runs_only(name: str, precision: str, precisions: tuple[str, ...]) -> str:
    """Empty when ``precision`` is one ``name`` runs, else the reason."""
    return "" if precision in precisions else f"{name} runs {', '.join(precisions)} only"


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


def as_input(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """A contiguous float32 NCHW array, as the ONNX-based runtimes take it."""
    if torch.is_tensor(images):
        images = images.detach().float().cpu().numpy()
    return np.ascontiguousarray(images, dtype=np.float32)


def torch_infer(
    forward: Callable[[torch.Tensor], torch.Tensor], device: torch.device
) -> Callable[[np.ndarray], np.ndarray]:
    """``infer`` of a runtime that takes tensors on ``device``."""

    def infer(images: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return as_numpy(forward(torch.as_tensor(as_input(images), device=device)))

    return infer


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
