"""One place that turns a ``--device`` string into a usable ``torch.device``, or says why not."""

from __future__ import annotations

import torch

from architectures.errors import DeviceError

# Types that time real computation; ``meta`` computes nothing (every latency would be ~0).
_SUPPORTED = ("cpu", "cuda", "mps", "xpu")


def _available(kind: str) -> bool:
    if kind == "cpu":
        return True
    return bool((torch.backends.mps if kind == "mps" else getattr(torch, kind)).is_available())


def _count(kind: str) -> int:
    module = getattr(torch, kind)  # torch.cuda, torch.mps, torch.xpu
    return int(module.device_count()) if hasattr(module, "device_count") else 1


def resolve_device(
    spec: str, option: str = "--device", local_rank: int | None = None
) -> torch.device:
    """``auto`` (CUDA if present, else CPU), ``cpu``, ``cuda[:N]``, ``mps``, ``xpu``; else a
    DeviceError naming ``option``. A bare ``cuda`` is ``cuda:local_rank`` when that is given."""
    text = str(spec).strip()
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise DeviceError(
            f"{option} {spec!r}: not a device; use auto, cpu, cuda or cuda:N"
        ) from None
    if device.type not in _SUPPORTED:
        raise DeviceError(
            f"{option} {spec!r}: cannot time or run models on a '{device.type}' "
            f"device; use auto, cpu, cuda or cuda:N"
        )
    if not _available(device.type):
        raise DeviceError(
            f"{option} {spec!r}: {device.type.upper()} is not available on this "
            f"machine (torch {torch.__version__})"
        )
    if device.index is None and local_rank is not None and device.type != "cpu":
        device = torch.device(device.type, local_rank)
    if device.index is not None and device.type != "cpu" and device.index >= _count(device.type):
        raise DeviceError(
            f"{option} {spec!r}: this machine has {_count(device.type)} "
            f"{device.type} device(s), numbered from 0"
        )
    return device
