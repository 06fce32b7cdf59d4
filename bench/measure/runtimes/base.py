"""Runtime adapters (docs/runtimes.md): ``prepare`` converts a network once for a batch-1 input
into a :class:`Prepared`; the ONNX export ONNX Runtime and OpenVINO share."""

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
    run: Callable[[], Any]  # the timed call: one batch-1 inference on the bound input
    heatmaps: Callable[[Any], np.ndarray]  # run()'s result as final heatmaps (N, K, h, w)
    infer: Callable[[np.ndarray], np.ndarray]  # another NCHW float32 batch (scoring)
    prepare_s: float = math.nan  # export / conversion / compilation cost
    notes: str = ""  # what the runtime really ran (int8 kernels, calibration data)


@dataclass(frozen=True)
class Runtime:
    """Subclasses define ``prepare(model, example, precision, threads, calibration=None) ->
    Prepared``, which raises on failure (the row keeps why)."""

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
    """Silence the "no CUDA runtime" warning inductor and NNCF trigger on a CPU-only machine."""
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)


def first_line(exc: BaseException) -> str:
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
    if torch.is_tensor(value):
        value = value.detach().float().cpu().numpy()
    return np.ascontiguousarray(value, dtype=np.float32)


def torch_infer(forward: Callable, device: torch.device) -> Callable[[np.ndarray], np.ndarray]:
    def infer(images: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return as_numpy(forward(torch.as_tensor(as_numpy(images), device=device)))

    return infer


def autocast(device: torch.device, precision: str, cache: bool = True):
    """``cache=False`` for CUDA graph capture, which must not keep autocast's cast weights."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, TORCH_DTYPES[precision], cache_enabled=cache)


@dataclass(frozen=True)
class Exported:
    """An .onnx file (OpenVINO reads a file ~10x faster than a buffer) in its own folder (with
    the int8 files derived from it), removed with the last reference."""

    path: Path
    export_s: float

    def __post_init__(self) -> None:
        weakref.finalize(self, shutil.rmtree, self.path.parent, ignore_errors=True)


_last: tuple[weakref.ref, tuple[int, ...], Exported] | None = None


def export_onnx(model: nn.Module, example: torch.Tensor) -> Exported:
    """The final heatmaps as ONNX, once per (model, shape): TorchScript exporter, opset 17 (within
    3e-5 of eager fp32 for the zoo); its time is charged to every runtime that uses it."""
    global _last
    key = tuple(example.shape)
    if _last is not None and _last[0]() is model and _last[1] == key:
        return _last[2]
    path = Path(tempfile.mkdtemp(prefix="gcpm-bench-onnx-")) / "model.onnx"
    started = time.perf_counter()
    # The exporter cannot trace inference tensors; its warnings (deprecations, constant input
    # sizes, fixed in a batch-1 deployment) are noise.
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning))
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        names = {"input_names": [INPUT_NAME], "output_names": [OUTPUT_NAME], "dynamo": False}
        final, args = FinalHeatmaps(model).eval(), (example.clone(),)
        torch.onnx.export(final, args, str(path), opset_version=17, **names)
    exported = Exported(path, time.perf_counter() - started)
    _last = (weakref.ref(model), key, exported)
    return exported
