"""Deployment runtimes: the zoo in eager PyTorch, torch.compile, CUDA graphs, ONNX Runtime,
OpenVINO and TensorRT, each conversion validated against eager fp32, timed side by side.

The registry is light: a runtime's name maps to the ``"module:attribute"`` of its adapter, so
listing and checking names (``--help``, ``--runtimes``, ``--bench-runtime``) imports no adapter
and none of the runtime libraries (onnx, onnxruntime, openvino, nncf). :func:`get_runtime`
imports the adapter when it is used.
"""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING, Any

from architectures.errors import UnknownNameError

if TYPE_CHECKING:
    from bench.measure.runtimes.base import Runtime

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16", "int8")
NONE = "none"  # --runtimes none: no runtimes rows

_PACKAGE = "bench.measure.runtimes"
RUNTIMES: dict[str, Any] = {  # name -> "module:attribute", or an adapter object itself
    "eager": f"{_PACKAGE}.eager:EAGER",
    "compile": f"{_PACKAGE}.compiled:COMPILED",
    "cuda-graphs": f"{_PACKAGE}.cuda_graphs:CUDA_GRAPHS",
    "onnxruntime": f"{_PACKAGE}.onnxrt:CPU",
    "onnxruntime-cuda": f"{_PACKAGE}.onnxrt:CUDA",
    "onnxruntime-tensorrt": f"{_PACKAGE}.onnxrt:TENSORRT",
    "openvino": f"{_PACKAGE}.openvino_cpu:OPENVINO",
    "tensorrt": f"{_PACKAGE}.tensorrt_gpu:TENSORRT",
}


def list_runtimes() -> list[str]:
    return list(RUNTIMES)


def _unknown(name: str) -> UnknownNameError:
    return UnknownNameError(f"unknown runtime {name!r}; known runtimes: {', '.join(RUNTIMES)}")


def get_runtime(name: str) -> Runtime:
    """The adapter registered as ``name`` (its module is imported on first use)."""
    if name not in RUNTIMES:
        raise _unknown(name)
    target = RUNTIMES[name]
    if not isinstance(target, str):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"openvino"`` -> ("openvino", None); ``"openvino:int8"`` -> ("openvino", "int8")."""
    name, _, precision = spec.partition(":")
    if name not in RUNTIMES:
        raise _unknown(name)
    if precision and precision not in PRECISIONS:
        raise UnknownNameError(
            f"runtime {spec!r}: unknown precision {precision!r}; "
            f"known precisions: {', '.join(PRECISIONS)}"
        )
    return name, precision or None


def runtime_spec(text: str) -> str:
    """argparse type of ``--runtimes``: NAME or NAME:PRECISION of a registered runtime, or none."""
    if text != NONE:
        try:
            parse_spec(text)
        except UnknownNameError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return text


__all__ = ["NONE", "PRECISIONS", "RUNTIMES", "get_runtime", "list_runtimes", "parse_spec"]
