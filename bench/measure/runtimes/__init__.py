"""Deployment runtimes (docs/runtimes.md): a light registry, name -> ``"module:attribute"`` of
its adapter, so checking names imports no runtime library; :func:`get_runtime` imports on use."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from architectures.errors import UnknownNameError

PRECISIONS = ("fp32", "bf16", "fp16", "int8")
NONE = "none"  # --runtimes none: no runtimes rows
RUNTIMES: dict[str, Any] = {  # name -> "module:attribute", or an adapter object itself
    "eager": "torch_runtimes:EAGER",
    "compile": "torch_runtimes:COMPILED",
    "cuda-graphs": "torch_runtimes:CUDA_GRAPHS",
    "onnxruntime": "onnxrt:CPU",
    "onnxruntime-cuda": "onnxrt:CUDA",
    "onnxruntime-tensorrt": "onnxrt:TENSORRT",
    "openvino": "openvino_cpu:OPENVINO",
    "tensorrt": "torch_runtimes:TENSORRT",
}


def list_runtimes() -> list[str]:
    return list(RUNTIMES)


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"openvino"`` -> ("openvino", None); ``"openvino:int8"`` -> ("openvino", "int8")."""
    name, colon, precision = spec.partition(":")
    if name not in RUNTIMES:
        raise UnknownNameError(f"unknown runtime {name!r}; known runtimes: {', '.join(RUNTIMES)}")
    if (colon and not precision) or (precision and precision not in PRECISIONS):
        raise UnknownNameError(
            f"runtime {spec!r}: unknown precision {precision!r}; "
            f"known precisions: {', '.join(PRECISIONS)}"
        )
    return name, precision or None


def get_runtime(name: str):
    target = RUNTIMES[parse_spec(name)[0]]
    if not isinstance(target, str):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), attribute)


def runtime_spec(text: str) -> str:
    """argparse type of ``--runtimes``: NAME or NAME:PRECISION of a registered runtime, or none."""
    try:
        if text != NONE:
            parse_spec(text)
    except UnknownNameError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text
