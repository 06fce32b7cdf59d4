"""Environment record for latency measurements: software versions, CPU, and GPU state via NVML.

A latency figure means little without the machine it was taken on. The GCPM paper (Osokin 2019,
Sec. 5.1) reports a GTX 1080 Ti with PyTorch 1.0 / CUDA 10.1 / cuDNN 7.5; we record the same facts
plus what changes a GPU's speed during a run (SM / memory clocks, temperature, power and the NVML
clock-event "throttle" reasons), sampled before and after each model's timing. Every query is
guarded: no GPU, no driver or no ``nvidia-ml-py`` is written into the record, never raised.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from typing import Any, Optional

import torch

# NVML clock-event reason bits (nvml.h, nvmlClocksEventReason*); names are what the record shows.
_REASON_BITS: dict[str, int] = {
    "gpu_idle": 0x1,
    "applications_clocks_setting": 0x2,
    "sw_power_cap": 0x4,
    "hw_slowdown": 0x8,
    "sync_boost": 0x10,
    "sw_thermal_slowdown": 0x20,
    "hw_thermal_slowdown": 0x40,
    "hw_power_brake_slowdown": 0x80,
    "display_clock_setting": 0x100,
}
# Reasons that lower the clocks below what the workload asked for. Idle, sync boost, application
# clocks and display settings are not "throttling" of a running benchmark.
THROTTLING_REASONS = frozenset(
    {"sw_power_cap", "hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown",
     "hw_power_brake_slowdown"}
)


@dataclass
class GpuState:
    """One NVML sample of a GPU; ``error`` says why a sample is missing."""

    sm_clock_mhz: Optional[int] = None
    mem_clock_mhz: Optional[int] = None
    sm_clock_max_mhz: Optional[int] = None
    mem_clock_max_mhz: Optional[int] = None
    temperature_c: Optional[int] = None
    power_w: Optional[float] = None
    power_limit_w: Optional[float] = None
    throttle_reasons: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def throttled(self) -> bool:
        return bool(THROTTLING_REASONS.intersection(self.throttle_reasons))


def decode_throttle_reasons(mask: int) -> list[str]:
    """Names of the NVML clock-event reason bits set in ``mask``."""
    return [name for name, bit in _REASON_BITS.items() if mask & bit]


def _nvml():
    """The initialised ``pynvml`` module, or an error string."""
    try:
        import pynvml
    except ImportError:
        return "nvidia-ml-py (pynvml) is not installed"
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # NVMLError_* subclasses; the driver library may be missing entirely
        return f"NVML unavailable: {exc}"
    return pynvml


def _nvml_handle(nvml, device: torch.device):
    """NVML handle of a torch CUDA device; matched by UUID because CUDA_VISIBLE_DEVICES reorders."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    if uuid is not None:
        try:
            return nvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
        except Exception:
            pass
    return nvml.nvmlDeviceGetHandleByIndex(index)


def _optional(fn, *args):
    try:
        return fn(*args)
    except Exception:  # a query unsupported on this board (e.g. power on some GPUs)
        return None


def _reasons(nvml, handle) -> list[str]:
    # the "ClocksEvent" name replaced "ClocksThrottle" in newer nvidia-ml-py releases
    query = (getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
             or nvml.nvmlDeviceGetCurrentClocksThrottleReasons)
    mask = _optional(query, handle)
    return decode_throttle_reasons(mask) if mask is not None else ["unknown"]


def gpu_state(device: torch.device) -> GpuState:
    """Sample clocks, temperature, power and throttle reasons of ``device`` (CUDA only)."""
    if device.type != "cuda":
        return GpuState(error=f"device {device} is not a CUDA device")
    nvml = _nvml()
    if isinstance(nvml, str):
        return GpuState(error=nvml)
    try:
        h = _nvml_handle(nvml, device)
    except Exception as exc:
        return GpuState(error=f"no NVML handle for {device}: {exc}")
    power_mw = _optional(nvml.nvmlDeviceGetPowerUsage, h)
    limit_mw = _optional(nvml.nvmlDeviceGetEnforcedPowerLimit, h)
    return GpuState(
        sm_clock_mhz=_optional(nvml.nvmlDeviceGetClockInfo, h, nvml.NVML_CLOCK_SM),
        mem_clock_mhz=_optional(nvml.nvmlDeviceGetClockInfo, h, nvml.NVML_CLOCK_MEM),
        sm_clock_max_mhz=_optional(nvml.nvmlDeviceGetMaxClockInfo, h, nvml.NVML_CLOCK_SM),
        mem_clock_max_mhz=_optional(nvml.nvmlDeviceGetMaxClockInfo, h, nvml.NVML_CLOCK_MEM),
        temperature_c=_optional(nvml.nvmlDeviceGetTemperature, h, nvml.NVML_TEMPERATURE_GPU),
        power_w=power_mw / 1000.0 if power_mw is not None else None,
        power_limit_w=limit_mw / 1000.0 if limit_mw is not None else None,
        throttle_reasons=_reasons(nvml, h),
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu_record(device: torch.device) -> dict[str, Any]:
    if device.type != "cuda":
        return {"available": False, "reason": f"timed on {device.type}; no GPU used"}
    index = device.index if device.index is not None else torch.cuda.current_device()
    props = torch.cuda.get_device_properties(index)
    record: dict[str, Any] = {
        "available": True,
        "name": props.name,
        "capability": f"{props.major}.{props.minor}",
        "memory_gib": round(props.total_memory / 2**30, 2),
        "multiprocessors": props.multi_processor_count,
    }
    nvml = _nvml()
    if isinstance(nvml, str):
        record["nvml"] = nvml
        return record
    record["driver"] = _optional(nvml.nvmlSystemGetDriverVersion)
    record["state_at_start"] = asdict(gpu_state(device))
    return record


def environment_record(device: torch.device) -> dict[str, Any]:
    """Versions, CPU and GPU facts of this run, JSON-serialisable."""
    cudnn = torch.backends.cudnn
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "cuda_build": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "cudnn": cudnn.version() if cudnn.is_available() else None,
        "device": str(device),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "gpu": _gpu_record(device),
    }
