"""Runtime adapters (docs/runtimes.md): ``prepare`` converts a network once for a batch-1 input
and returns a :class:`Prepared` whose ``run`` the harness times without knowing the runtime; the
ONNX export that ONNX Runtime and OpenVINO share."""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import shutil
import tempfile
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
INPUT_NAME, OUTPUT_NAME = "image", "heatmaps"


@dataclass
class Prepared:
    """``run()``: one batch-1 inference on the bound input (the timed call); ``heatmaps`` turns
    its result into final heatmaps (N, K, h, w) and ``infer`` runs another NCHW float32 batch
    (scoring), both outside the timing. ``prepare_s``: export / conversion / compilation cost;
    ``notes``: what the runtime really ran (int8 kernels, calibration data)."""

    run: Callable[[], Any]
    heatmaps: Callable[[Any], np.ndarray]
    infer: Callable[[np.ndarray], np.ndarray]
    prepare_s: float = math.nan
    notes: str = ""


@dataclass(frozen=True)
class Runtime:
    """An adapter, ``name`` its key in ``RUNTIMES``. Subclasses define ``prepare(model, example,
    precision, threads, calibration=None) -> Prepared``, which raises on failure (the row keeps
    why); ``calibration`` says where int8 calibration images come from (generated when None)."""

    name: str
    runs: tuple[str, ...] = ("fp32", "bf16", "fp16")  # precisions it can run
    default: tuple[str, ...] = ("fp32",)  # the rows of a run that names only the runtime
    device_type: str = ""  # "cuda" or "cpu" when it runs only there
    module: str = ""  # the library it needs, and how to install it
    install: str = ""

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        return self.default

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        """Empty when ``precision`` can run on ``device``, else why not (one line)."""
        if precision not in self.runs:
            return f"{self.name} runs {', '.join(self.runs)} only"
        if self.device_type and device.type != self.device_type:
            where = "needs a CUDA device" if self.device_type == "cuda" else "runs on the CPU"
            return f"{self.name} {where} (this run's device is {device})"
        return missing_module(self.module, self.install) if self.module else ""


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def quiet_cpp_extension() -> None:
    """torch's C++ extension loader (imported by inductor and NNCF) warns on a CPU-only machine
    that no CUDA runtime is found: expected there, not news for the user."""
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


class FinalHeatmaps(nn.Module):
    """The network with only its prediction as output, as a deployment exports it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)[-1]


def as_numpy(value: np.ndarray | torch.Tensor) -> np.ndarray:
    """A contiguous float32 array, as the ONNX-based runtimes take it and the checks compare."""
    if torch.is_tensor(value):
        value = value.detach().float().cpu().numpy()
    return np.ascontiguousarray(value, dtype=np.float32)


def torch_infer(forward: Callable, device: torch.device) -> Callable[[np.ndarray], np.ndarray]:
    """``infer`` of a runtime that takes tensors on ``device``."""

    def infer(images: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return as_numpy(forward(torch.as_tensor(as_numpy(images), device=device)))

    return infer


def autocast(device: torch.device, precision: str, cache: bool = True):
    """torch autocast for bf16 / fp16; nothing for fp32. ``cache=False`` for CUDA graph capture,
    which must not keep autocast's cast weights."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, TORCH_DTYPES[precision], cache_enabled=cache)


@dataclass(frozen=True)
class Exported:
    """An .onnx file (OpenVINO reads a file ~10x faster than a converted buffer) in a folder of
    its own, which also takes the int8 files derived from it; removed with the last reference."""

    path: Path
    export_s: float

    def __post_init__(self) -> None:
        weakref.finalize(self, shutil.rmtree, self.path.parent, ignore_errors=True)


_last: tuple[weakref.ref, tuple[int, ...], Exported] | None = None


def export_onnx(model: nn.Module, example: torch.Tensor) -> Exported:
    """The network (final heatmaps only) as an ONNX file, exported once per (model, shape): the
    TorchScript exporter, opset 17, which matched eager fp32 within 3e-5 for the zoo. Its time is
    charged to every runtime that uses it, as a deployment would pay it."""
    global _last
    key = tuple(example.shape)
    if _last is not None and _last[0]() is model and _last[1] == key:
        return _last[2]
    path = Path(tempfile.mkdtemp(prefix="gcpm-bench-onnx-")) / "model.onnx"
    started = time.perf_counter()
    # The exporter traces with autograd state of its own; inference tensors cannot take part.
    # Its deprecation warnings and the tracer's about constants (input sizes, fixed for a
    # batch-1 deployment) would only be noise in every run's output.
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning))
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        names = {"input_names": [INPUT_NAME], "output_names": [OUTPUT_NAME]}
        final = FinalHeatmaps(model).eval()
        torch.onnx.export(
            final, (example.clone(),), str(path), opset_version=17, dynamo=False, **names
        )
    exported = Exported(path, time.perf_counter() - started)
    _last = (weakref.ref(model), key, exported)
    return exported
