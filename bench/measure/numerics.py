"""Flags that change numerics or kernel choice: TF32, cudnn autotuning, determinism.

PyTorch lets cuDNN convolutions use TF32 by default on Ampere and later GPUs (the GCPM paper's
GTX 1080 Ti has none), so an unqualified "fp32" latency on an H100 would be TF32. Here ``fp32``
means strict IEEE fp32 (TF32 off for convolutions and matmuls) and ``tf32`` is a mode of its own.
Flags are set only inside :func:`precision` and restored on exit; :func:`numerics_flags` reads the
effective values, which every latency row and ``env.json`` record.

torch >= 2.9 has per-backend ``fp32_precision`` attributes next to the legacy flags, and refuses
to read a legacy flag once backends were set differently. Flags are therefore set through the
legacy setters (which change every backend alike: cuDNN conv and RNN, cuBLAS and oneDNN matmul)
and the conv flag is read through the new API where it exists.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

TF32_MODES = frozenset({"tf32"})


def _new_api() -> bool:
    conv = getattr(torch.backends.cudnn, "conv", None)
    return hasattr(conv, "fp32_precision") and hasattr(torch.backends.cuda.matmul, "fp32_precision")


def _tf32_conv() -> bool:
    if _new_api():  # the legacy getter raises when conv and RNN flags differ
        return torch.backends.cudnn.conv.fp32_precision == "tf32"
    return bool(torch.backends.cudnn.allow_tf32)


def _set_tf32(conv: bool, matmul_precision: str) -> None:
    # The legacy setters change every backend alike (cuDNN conv and RNN; cuBLAS and oneDNN
    # matmul), so torch never sees the mix of settings that its own getters refuse.
    torch.backends.cudnn.allow_tf32 = conv
    torch.set_float32_matmul_precision(matmul_precision)


def _matmul_backends() -> dict[object, str]:
    """Per-backend matmul settings of torch >= 2.9 (empty before), to restore them exactly."""
    found = {}
    for backend in (
        torch.backends.cuda.matmul,
        getattr(getattr(torch.backends, "mkldnn", None), "matmul", None),
    ):
        value = getattr(backend, "fp32_precision", None)
        if value is not None:
            found[backend] = value
    return found


@contextlib.contextmanager
def precision(mode: str) -> Iterator[None]:
    """TF32 on for ``tf32`` mode, off (strict fp32) for every other mode; restored on exit.

    Autocast modes (bf16, fp16) are strict too: what they leave in fp32 stays IEEE fp32.
    """
    previous = _tf32_conv(), torch.get_float32_matmul_precision()
    backends = _matmul_backends()
    tf32 = mode in TF32_MODES
    _set_tf32(tf32, "high" if tf32 else "highest")
    try:
        yield
    finally:
        _set_tf32(*previous)
        for backend, value in backends.items():  # exactly as before ("none" stays "none")
            backend.fp32_precision = value


@contextlib.contextmanager
def cudnn_benchmark(device: torch.device) -> Iterator[None]:
    """cudnn autotuning for a timed or profiled run only; the caller's setting is restored.

    On CUDA it is on (the fastest kernel per shape, as in deployment); elsewhere unchanged.
    """
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
    if major < 8:
        return f"tf32 needs compute capability >= 8.0; {device} has {major}.{minor}"
    return ""


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
    mkldnn = getattr(torch.backends, "mkldnn", None)
    for op in ("conv", "matmul"):  # CPU: oneDNN may run fp32 as bf16 / tf32 when asked to
        value = getattr(getattr(mkldnn, op, None), "fp32_precision", None)
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
