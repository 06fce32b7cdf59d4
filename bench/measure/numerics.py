"""Flags that change numerics or kernel choice: TF32, cudnn autotuning, determinism (docs/gpu.md).
``fp32`` is strict IEEE fp32 (cuDNN's default TF32 off); ``tf32`` is a mode of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def _tf32_conv() -> bool:
    conv = getattr(torch.backends.cudnn, "conv", None)
    if hasattr(conv, "fp32_precision"):  # torch >= 2.9, whose legacy getter raises on a mix
        return conv.fp32_precision == "tf32"
    return bool(torch.backends.cudnn.allow_tf32)


def _set_tf32(conv: bool, matmul_precision: str) -> None:
    # legacy setters change every backend alike, so torch never sees a mix its getters refuse
    torch.backends.cudnn.allow_tf32 = conv
    torch.set_float32_matmul_precision(matmul_precision)


@contextlib.contextmanager
def precision(mode: str) -> Iterator[None]:
    """TF32 on for ``tf32`` mode, strict fp32 for every other (what autocast leaves in fp32 too);
    restored on exit, torch >= 2.9's per-backend matmul settings exactly ("none" stays "none")."""
    matmul = (torch.backends.cuda.matmul, getattr(torch.backends.mkldnn, "matmul", None))
    backends = {b: b.fp32_precision for b in matmul if hasattr(b, "fp32_precision")}
    previous = _tf32_conv(), torch.get_float32_matmul_precision()
    _set_tf32(mode == "tf32", "high" if mode == "tf32" else "highest")
    try:
        yield
    finally:
        _set_tf32(*previous)
        for backend, value in backends.items():
            backend.fp32_precision = value


@contextlib.contextmanager
def cudnn_benchmark(device: torch.device) -> Iterator[None]:
    """cudnn autotuning on CUDA (the fastest kernel per shape, as deployed), restored on exit."""
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = device.type == "cuda" or previous
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


@contextlib.contextmanager
def timing_numerics(mode: str, device: torch.device) -> Iterator[None]:
    """The timer's settings for ``mode``: its TF32 policy and cudnn autotuning on CUDA."""
    with cudnn_benchmark(device), precision(mode):
        yield


def tf32_unsupported(device: torch.device) -> str:
    """Why ``tf32`` mode cannot run on ``device`` (empty when it can): Ampere (8.0) or later."""
    if device.type != "cuda":
        return f"tf32 is a CUDA mode (tensor cores of compute capability >= 8.0); not on {device}"
    major, minor = torch.cuda.get_device_capability(device)
    too_old = f"tf32 needs compute capability >= 8.0; {device} has {major}.{minor}"
    return too_old if major < 8 else ""


def numerics_flags() -> dict[str, object]:
    """Effective values of every flag that changes numerics or kernel choice, JSON-ready."""
    flags: dict[str, object] = {
        "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "tf32_conv": _tf32_conv(),
        "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
        "cudnn_deterministic": bool(torch.backends.cudnn.deterministic),
        "deterministic_algorithms": bool(torch.are_deterministic_algorithms_enabled()),
    }
    try:
        flags["float32_matmul_precision"] = torch.get_float32_matmul_precision()
    except RuntimeError as exc:  # someone set the new per-backend API differently per backend
        flags["float32_matmul_precision"] = f"mixed: {str(exc).splitlines()[0][:80]}"
    for op in ("conv", "matmul"):  # CPU: oneDNN may run fp32 as bf16 / tf32 when asked to
        value = getattr(getattr(torch.backends.mkldnn, op, None), "fp32_precision", None)
        if value is not None:
            flags[f"cpu_{op}_fp32_precision"] = value
    return flags


def flags_during_timing(device: torch.device) -> dict[str, dict[str, object]]:
    """The flags a strict mode (fp32 and the others) and ``tf32`` mode time with on ``device``."""
    out = {}
    for label, mode in (("strict modes", "fp32"), ("tf32", "tf32")):
        with timing_numerics(mode, device):
            out[label] = numerics_flags()
    return out
