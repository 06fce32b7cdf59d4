"""One place that turns a ``--device`` string into a usable ``torch.device``, or says why not."""

from __future__ import annotations

import torch

from architectures.errors import DeviceError

# Types that time real computation; ``meta`` computes nothing (every latency would be ~0).
_SUPPORTED = ("cpu", "cuda", "mps", "xpu")


def _available(kind: str) -> bool:
    backend = torch.backends.mps if kind == "mps" else getattr(torch, kind, None)
    return kind == "cpu" or bool(backend.is_available())


def _count(kind: str) -> int:
    module = getattr(torch, kind)  # torch.cuda, torch.mps, torch.xpu
    return int(module.device_count()) if hasattr(module, "device_count") else 1


def resolve_device(
    spec: str, option: str = "--device", local_rank: int | None = None
) -> torch.device:
    """``auto`` (CUDA if present, else CPU), ``cpu``, ``cuda[:N]``, ``mps``, ``xpu``; else a
    DeviceError naming ``option``. A bare ``cuda`` is ``cuda:local_rank`` when that is given."""
    refused, use = f"{option} {spec!r}:", "use auto, cpu, cuda or cuda:N"
    text = str(spec).strip()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise DeviceError(f"{refused} not a device; {use}") from None
    kind = device.type
    if kind not in _SUPPORTED:
        raise DeviceError(f"{refused} cannot time or run models on a '{kind}' device; {use}")
    if not _available(kind):
        raise DeviceError(
            f"{refused} {kind.upper()} is not available on this machine (torch {torch.__version__})"
        )
    if device.index is None and local_rank is not None and kind != "cpu":
        device = torch.device(kind, local_rank)
    if device.index is not None and kind != "cpu" and device.index >= _count(kind):
        raise DeviceError(
            f"{refused} this machine has {_count(kind)} {kind} device(s), numbered from 0"
        )
    return device
