"""Environment of a latency run (as GCPM, Osokin 2019, Sec. 5.1 names its GPU, PyTorch, CUDA and
cuDNN) and NVML's GPU state and counters. Every NVML query is guarded: what is missing (GPU, driver,
``nvidia-ml-py``) is written into the record, never raised. Manual: docs/gpu.md."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from bench.measure.load import is_busy, machine_load, others_cores
from bench.measure.numerics import flags_during_timing, numerics_flags

# NVML clock-event reasons of bits 0x1, 0x2, 0x4, ... in order (nvml.h, nvmlClocksEventReason*).
_REASONS = (
    "gpu_idle", "applications_clocks_setting", "sw_power_cap", "hw_slowdown", "sync_boost",
    "sw_thermal_slowdown", "hw_thermal_slowdown", "hw_power_brake_slowdown",
    "display_clock_setting",
)  # fmt: skip
# Reasons that hold the clocks below what a running benchmark asks for: power caps and slowdowns
# (idle, sync boost, application and display clocks do not).
THROTTLING_REASONS = frozenset(r for r in _REASONS if "power" in r or "slowdown" in r)


@dataclass
class GpuState:
    """One NVML sample of a GPU; ``error`` says why a sample is missing."""

    sm_clock_mhz: int | None = None
    mem_clock_mhz: int | None = None
    sm_clock_max_mhz: int | None = None
    mem_clock_max_mhz: int | None = None
    temperature_c: int | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    throttle_reasons: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def throttled(self) -> bool:
        return bool(THROTTLING_REASONS.intersection(self.throttle_reasons))


def decode_throttle_reasons(mask: int) -> list[str]:
    return [name for bit, name in enumerate(_REASONS) if mask & (1 << bit)]


def _nvml_handle(nvml, device: torch.device):
    """NVML handle of a torch CUDA device; matched by UUID because CUDA_VISIBLE_DEVICES reorders."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    with contextlib.suppress(Exception):  # no UUID lookup (e.g. a MIG slice): by the index
        return nvml.nvmlDeviceGetHandleByUUID(f"GPU-{uuid}")
    return nvml.nvmlDeviceGetHandleByIndex(index)


def _open(device: torch.device) -> tuple[Any, Any, str]:
    """(pynvml, handle of ``device``, "") or (None, None, why not)."""
    if device.type != "cuda":
        return None, None, f"device {device} is not a CUDA device"
    try:
        import pynvml

        pynvml.nvmlInit()
    except ImportError:
        return None, None, "nvidia-ml-py (pynvml) is not installed"
    except Exception as exc:  # noqa: BLE001 - NVMLError_*, or the driver library is missing
        return None, None, f"NVML unavailable: {exc}"
    try:
        return pynvml, _nvml_handle(pynvml, device), ""
    except Exception as exc:  # noqa: BLE001 - any NVML failure is recorded, not raised
        return None, None, f"no NVML handle for {device}: {exc}"


def _optional(fn, *args):  # None: a query unsupported on this board (e.g. power)
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001
        return None


def _watts(nvml_call, handle) -> float | None:
    milliwatts = _optional(nvml_call, handle)
    return None if milliwatts is None else milliwatts / 1000.0


def gpu_state(device: torch.device) -> GpuState:
    nvml, h, error = _open(device)
    if error:
        return GpuState(error=error)
    # the "ClocksEvent" name replaced "ClocksThrottle" in newer nvidia-ml-py releases
    reasons = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
    mask = _optional(reasons or nvml.nvmlDeviceGetCurrentClocksThrottleReasons, h)
    return GpuState(
        sm_clock_mhz=_optional(nvml.nvmlDeviceGetClockInfo, h, nvml.NVML_CLOCK_SM),
        mem_clock_mhz=_optional(nvml.nvmlDeviceGetClockInfo, h, nvml.NVML_CLOCK_MEM),
        sm_clock_max_mhz=_optional(nvml.nvmlDeviceGetMaxClockInfo, h, nvml.NVML_CLOCK_SM),
        mem_clock_max_mhz=_optional(nvml.nvmlDeviceGetMaxClockInfo, h, nvml.NVML_CLOCK_MEM),
        temperature_c=_optional(nvml.nvmlDeviceGetTemperature, h, nvml.NVML_TEMPERATURE_GPU),
        power_w=_watts(nvml.nvmlDeviceGetPowerUsage, h),
        power_limit_w=_watts(nvml.nvmlDeviceGetEnforcedPowerLimit, h),
        throttle_reasons=["unknown"] if mask is None else decode_throttle_reasons(mask),
    )


# NVML performance policies 0, 1, ... (nvmlPerfPolicyType_t), and those that throttle a benchmark.
_POLICIES = ("power", "thermal", "sync_boost", "board_limit", "low_utilization", "reliability")
THROTTLING_POLICIES: tuple[str, ...] = ("power", "thermal", "board_limit", "reliability")
MIN_ENERGY_WINDOW_S = 1.0  # the energy counter is coarse in time: shorter windows mislead


@dataclass(frozen=True)
class GpuCounters:
    """NVML's cumulative violation time per policy (ns) and energy (mJ) at ``time.perf_counter``."""

    time_s: float
    violation_ns: Mapping[str, int] = field(default_factory=dict)
    energy_mj: int | None = None
    error: str = ""


def read_counters(device: torch.device) -> GpuCounters:
    """The counters of ``device`` now; on a CPU or without NVML only the time, and why."""
    nvml, handle, error = _open(device)
    if error:
        return GpuCounters(time.perf_counter(), error=error)
    query = nvml.nvmlDeviceGetViolationStatus
    status = {name: _optional(query, handle, policy) for policy, name in enumerate(_POLICIES)}
    violations = {name: int(s.violationTime) for name, s in status.items() if s is not None}
    energy = _optional(nvml.nvmlDeviceGetTotalEnergyConsumption, handle)
    missing = [] if violations else ["violation status"]
    missing += [] if energy is not None else ["total energy"]
    error = f"NVML gave no {' or '.join(missing)}" if missing else ""
    return GpuCounters(
        time.perf_counter(), violations, None if energy is None else int(energy), error
    )


@dataclass
class WindowTotals:
    """Counter deltas summed over the timing windows (timed loops only) of one latency row."""

    duration_s: float = 0.0
    windows: int = 0
    inferences: int = 0
    violation_s: dict[str, float] = field(default_factory=dict)
    energy_mj: float | None = 0.0  # None once a window lacked the energy counter
    error: str = ""

    def add(self, before: GpuCounters, after: GpuCounters, inferences: int) -> None:
        self.duration_s += max(after.time_s - before.time_s, 0.0)
        self.windows += 1
        self.inferences += inferences
        for name in set(before.violation_ns) & set(after.violation_ns):
            delta = (after.violation_ns[name] - before.violation_ns[name]) / 1e9
            self.violation_s[name] = self.violation_s.get(name, 0.0) + max(delta, 0.0)
        if None not in (self.energy_mj, before.energy_mj, after.energy_mj):
            self.energy_mj += after.energy_mj - before.energy_mj
        else:
            self.energy_mj = None
        self.error = self.error or after.error or before.error

    def violation_pct(self) -> dict[str, float]:
        """Share of the windows' wall time each policy held the clocks down, in %."""
        if self.duration_s <= 0:
            return {}
        return {name: 100.0 * s / self.duration_s for name, s in sorted(self.violation_s.items())}

    def throttled_pct(self) -> float:
        """The largest share among the throttling policies (they overlap, so no sum)."""
        shares = self.violation_pct()
        return max((shares[p] for p in THROTTLING_POLICIES if p in shares), default=math.nan)

    def energy_per_inference_mj(self) -> tuple[float, str]:
        """(mJ per inference, "") or (NaN, why not)."""
        if self.energy_mj is None or self.windows == 0:
            return math.nan, self.error or "no energy counter"
        if self.duration_s < MIN_ENERGY_WINDOW_S:
            return math.nan, f"timing windows {self.duration_s:.2f} s < {MIN_ENERGY_WINDOW_S:g} s"
        if self.inferences == 0:
            return math.nan, "no inferences timed"
        return self.energy_mj / self.inferences, ""

    def as_columns(self) -> dict[str, object]:
        energy, why = self.energy_per_inference_mj()
        shares = self.violation_pct()
        return {
            "throttled_pct": self.throttled_pct(),
            "violation_pct": ", ".join(f"{k} {v:.1f}" for k, v in shares.items() if v > 0),
            "energy_per_inference_mj": energy,
            "energy_note": why,
        }


def _cpu_model() -> str:
    names = []
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def _gpu_record(device: torch.device, volatile: bool) -> dict[str, Any]:
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
    nvml, handle, error = _open(device)
    if error:
        record["nvml"] = error
        return record
    record["driver"] = _optional(nvml.nvmlSystemGetDriverVersion)
    # settings that change a GPU's speed and stay put during a run (nvidia-smi -pm / -ac)
    persistence = _optional(nvml.nvmlDeviceGetPersistenceMode, handle)
    settings = {"persistence_mode": None if persistence is None else bool(persistence)}
    record["settings"] = settings
    now, default = nvml.nvmlDeviceGetApplicationsClock, nvml.nvmlDeviceGetDefaultApplicationsClock
    for key, kind in (("sm", nvml.NVML_CLOCK_SM), ("mem", nvml.NVML_CLOCK_MEM)):
        settings[f"application_{key}_clock_mhz"] = _optional(now, handle, kind)
        settings[f"default_application_{key}_clock_mhz"] = _optional(default, handle, kind)
    settings["power_limit_w"] = _watts(nvml.nvmlDeviceGetEnforcedPowerLimit, handle)
    if volatile:
        record["state_at_start"] = asdict(gpu_state(device))
    return record


def environment_record(device: torch.device, volatile: bool = True) -> dict[str, Any]:
    """Versions, CPU and GPU facts of this run, JSON-serialisable; ``volatile=False`` leaves out
    the momentary state (GPU clocks, power, load), e.g. for pytest-benchmark's ``machine_info``."""
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
        "numerics": numerics_flags(),
        "numerics_during_timing": flags_during_timing(device),
        "gpu": _gpu_record(device, volatile),
        **({"load": _load_now()} if volatile else {}),
    }


def _load_now() -> dict[str, object]:
    reading, others = machine_load(), others_cores()
    load_1m, cores = reading["load_1m"], int(reading["cores"])
    others = None if others is None else round(others, 2)
    busy = is_busy(load_1m, cores, others)
    return {"load_1m": load_1m, "cores": cores, "others_cores": others, "busy": busy}
