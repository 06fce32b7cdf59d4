"""Batch-1 latency of registered pose networks with spread statistics (GCPM paper, Sec. 5.1).

One input made outside the timed region, ``torch.inference_mode``, CUDA events after a synchronize;
models timed in interleaved rounds, NVML counters and load read around each block (docs/gpu.md)."""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import torch
from torch import nn

from architectures.registry import build_at_size, input_shape
from bench.measure.environment import GpuState, WindowTotals, gpu_state, read_counters
from bench.measure.load import LoadWindow, machine_load
from bench.measure.numerics import cudnn_benchmark, numerics_flags, precision, tf32_unsupported

MODES: tuple[str, ...] = ("fp32", "tf32", "channels_last", "bf16", "fp16")
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_MIN_SAMPLES = 3  # fewer samples make percentiles and CV meaningless


@dataclass(frozen=True)
class TimingConfig:
    """``iters`` samples after ``warmup`` untimed runs, continued until ``min_time_s``; stopped
    early (after at least 3 samples) at ``max_time_s``, which bounds slow models on a CPU."""

    warmup: int = 10
    iters: int = 100
    min_time_s: float = 0.0
    max_time_s: float | None = None

    def __post_init__(self) -> None:
        if self.warmup < 0 or self.iters < 1:
            raise ValueError(f"{type(self).__name__} needs warmup >= 0 and iters >= 1, got {self}")

    def per_round(self, rounds: int) -> TimingConfig:
        """This budget split over ``rounds`` interleaved rounds, warmed up before the first."""
        max_time = None if self.max_time_s is None else self.max_time_s / rounds
        iters = max(1, math.ceil(self.iters / rounds))
        return TimingConfig(0, iters, self.min_time_s / rounds, max_time)


@dataclass(frozen=True)
class ValidityRule:
    """When a row's percentiles mean something (MLPerf's run rules): a p90 of under 64 samples
    rests on 6 or fewer; a window under 1 s sees neither clocks settle nor energy counted."""

    min_samples: int = 64
    min_duration_s: float = 1.0

    def check(self, samples: int, duration_s: float) -> str:
        """Empty when valid, else why not (every condition missed)."""
        why = []
        if samples < self.min_samples:
            why.append(f"{samples} samples < {self.min_samples}")
        if duration_s < self.min_duration_s:
            why.append(f"{duration_s:.2f} s timed < {self.min_duration_s:g} s")
        return "; ".join(why)


VALIDITY = ValidityRule()


@dataclass(frozen=True)
class LatencyStats:
    median_ms: float
    mean_ms: float
    p10_ms: float
    p90_ms: float
    iqr_ms: float
    std_ms: float
    cv: float  # std / mean: the relative noise of this measurement
    iters: int

    @classmethod
    def from_samples(cls, samples_ms: Sequence[float]) -> LatencyStats:
        a = np.asarray(samples_ms, dtype=float)
        if a.size == 0:
            return cls(*[math.nan] * 7, 0)
        p10, q1, med, q3, p90 = (float(v) for v in np.percentile(a, [10, 25, 50, 75, 90]))
        std, mean = float(a.std(ddof=1)) if a.size > 1 else 0.0, float(a.mean())
        cv = std / mean if mean > 0 else math.nan
        return cls(med, mean, p10, p90, q3 - q1, std, cv, int(a.size))


@dataclass
class LatencyResult:
    """One model timed in one mode on one device; its statistics come from ``samples``."""

    model: str
    mode: str
    device: str
    input_size: tuple[int, int]
    threads: int
    samples: list[float] = field(default_factory=list)  # ms, every timed call of every round
    reason: str = ""  # why there are no samples (mode unsupported on this device)
    gpu_before: GpuState = field(default_factory=GpuState)
    gpu_after: GpuState = field(default_factory=GpuState)
    flags: dict = field(default_factory=dict)  # numerics flags the timing ran with
    window: WindowTotals = field(default_factory=WindowTotals)
    load: LoadWindow = field(default_factory=LoadWindow)

    @property
    def stats(self) -> LatencyStats:
        return LatencyStats.from_samples(self.samples)

    @property
    def throttled(self) -> bool:
        """Throttling seen in a snapshot before or after, or as violation time in a window."""
        in_window = self.window.throttled_pct() > 0  # NaN (no counters) is not throttling
        return self.gpu_before.throttled or self.gpu_after.throttled or in_window

    @property
    def validity(self) -> str:
        why = VALIDITY.check(len(self.samples), self.window.duration_s)
        return "not measured" if self.reason else why

    def as_row(self) -> dict:
        reasons = sorted({*self.gpu_before.throttle_reasons, *self.gpu_after.throttle_reasons})
        return {
            "model": self.model,
            "mode": self.mode,
            "device": self.device,
            "input": f"{self.input_size[0]}x{self.input_size[1]}",
            "threads": self.threads,
            **asdict(self.stats),
            "reason": self.reason,
            "timed_s": self.window.duration_s,
            "valid": not self.validity,
            "validity": self.validity or "ok",
            "throttled": self.throttled,
            "throttle_reasons": ",".join(reasons),
            **self.window.as_columns(),
            "sm_clock_before_mhz": self.gpu_before.sm_clock_mhz,
            "sm_clock_after_mhz": self.gpu_after.sm_clock_mhz,
            "temperature_after_c": self.gpu_after.temperature_c,
            **self.load.as_columns(),
            **self.flags,
        }


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _sample(fn: Callable[[], object], device: torch.device) -> float:
    """One call's latency in ms: CUDA events after a synchronize on a GPU, else wall time."""
    if device.type != "cuda":
        t0 = time.perf_counter_ns()
        fn()
        return (time.perf_counter_ns() - t0) / 1e6
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize(device)  # nothing queued before the start event
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end)


def time_callable(
    fn: Callable[[], object], device: torch.device, config: TimingConfig
) -> list[float]:
    """Per-call latencies of ``fn`` in ms after ``config.warmup`` untimed calls."""
    for _ in range(config.warmup):
        fn()
    synchronize(device)
    samples: list[float] = []
    start = time.perf_counter()
    while True:
        samples.append(_sample(fn, device))
        elapsed = time.perf_counter() - start
        done = len(samples) >= config.iters and elapsed >= config.min_time_s
        out_of_time = config.max_time_s is not None and elapsed >= config.max_time_s
        if done or (out_of_time and len(samples) >= min(_MIN_SAMPLES, config.iters)):
            return samples


def prepare(
    model: nn.Module, input_shape: Sequence[int], device: torch.device, mode: str
) -> tuple[nn.Module, torch.Tensor]:
    """The model in eval mode on ``device`` and an input for ``mode`` (channels_last: on a copy)."""
    if mode not in MODES:
        raise ValueError(f"unknown latency mode {mode!r}; known modes: {', '.join(MODES)}")
    x = torch.randn(*input_shape, device=device)
    if mode == "channels_last":
        model = copy.deepcopy(model).to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return model.eval().to(device), x


def _autocast_inactive(mode: str, device: torch.device) -> str:
    """torch turns an autocast it cannot run off with a warning only; say so as the reason."""
    wanted = _AUTOCAST_DTYPES.get(mode)
    active = torch.is_autocast_enabled(device.type)
    if wanted is None or (active and torch.get_autocast_dtype(device.type) == wanted):
        return ""
    return f"{mode} autocast is not supported on {device.type} by torch {torch.__version__}"


def _unsupported_reason(model: nn.Module, x: torch.Tensor, mode: str) -> str:
    """Run once; an exception means the mode is unsupported here, reported as its reason."""
    refused = tf32_unsupported(x.device) if mode == "tf32" else _autocast_inactive(mode, x.device)
    if refused:
        return refused
    try:
        model(x)
    except (RuntimeError, NotImplementedError, TypeError) as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return f"{type(exc).__name__}: {first_line[:200]}"
    return ""


@dataclass
class _Job:
    model: nn.Module
    x: torch.Tensor
    result: LatencyResult
    ran: bool = False  # ran in this mode before (traced for its counts): that run was the probe

    def run(self, fn: Callable[[nn.Module, torch.Tensor], object], device: torch.device):
        mode, dtype = self.result.mode, _AUTOCAST_DTYPES.get(self.result.mode)
        autocast = torch.autocast(device.type, dtype=dtype) if dtype else contextlib.nullcontext()
        with precision(mode), autocast:
            self.result.flags = numerics_flags()  # what this mode really ran with
            return fn(self.model, self.x)


def _jobs(
    names: Sequence[str], device, modes: Sequence[str], input_size, built: Mapping[str, nn.Module]
) -> list[_Job]:
    jobs = []
    for name in names:
        model = built[name] if name in built else build_at_size(name, input_size)
        model = model.eval().to(device)
        shape = input_shape(model.info, input_size)
        size, threads = tuple(shape[-2:]), torch.get_num_threads()
        for mode in modes:
            result = LatencyResult(name, mode, str(device), size, threads)
            # cudnn picks its algorithms on a mode's first call under the timer's settings: a
            # GPU probes anyway; a CPU (oneDNN) runs the traced forward's kernels again
            ran = name in built and mode == "fp32" and device.type == "cpu"
            jobs.append(_Job(*prepare(model, shape, device, mode), result, ran))
    return jobs


def benchmark_models(
    names: Sequence[str],
    device: torch.device,
    modes: Sequence[str] = ("fp32",),
    config: TimingConfig = TimingConfig(),
    input_size: tuple[int, int] | None = None,
    on_step: Callable[[str, str], None] = lambda name, mode: None,
    rounds: int = 1,
    built: Mapping[str, nn.Module] | None = None,
) -> pd.DataFrame:
    """One row per (model, mode), sampled in ``rounds`` interleaved rounds so a change in machine
    load spreads over all models; ``on_step(name, mode)`` once per (model, mode) and round;
    ``built``: name -> the model in eval mode on ``device`` at that size, run in fp32 there
    already (traced for its counts), which on a CPU stands for its fp32 probe and warm-up."""
    if rounds < 1:  # zero rounds divided the budget by zero after building every model
        raise ValueError(f"benchmark_models needs rounds >= 1, got {rounds}")
    jobs = _jobs(names, device, modes, input_size, built or {})
    _run(jobs, device, config, rounds, on_step)
    return pd.DataFrame([job.result.as_row() for job in jobs])


def _run(jobs: Sequence[_Job], device, config: TimingConfig, rounds: int, on_step) -> None:
    """Probe (a mode that fails gives its reason) and warm up every job, then time interleaved."""
    per_round = config.per_round(rounds)
    with torch.inference_mode(), cudnn_benchmark(device):
        for job in jobs:
            if not job.ran:
                probe = partial(_unsupported_reason, mode=job.result.mode)
                job.result.reason = job.run(probe, device)
            for _ in range(0 if job.result.reason else config.warmup):
                job.run(lambda m, x: m(x), device)
        for r in range(rounds):
            for job in jobs:
                if not job.result.reason:
                    _time_round(job, device, per_round, first=r == 0, last=r == rounds - 1)
                on_step(job.result.model, job.result.mode)


def _time_round(job: _Job, device, config: TimingConfig, first: bool, last: bool) -> None:
    """One timed block inside NVML counters inside load readings; GPU state first and last."""
    result, on_cuda = job.result, device.type == "cuda"
    if first and on_cuda:
        result.gpu_before = gpu_state(device)
    load_before = machine_load()
    before = read_counters(device)
    samples = job.run(lambda m, x: time_callable(lambda: m(x), device, config), device)
    result.window.add(before, read_counters(device), len(samples))
    result.load.add(load_before, machine_load())
    result.samples += samples
    if last and on_cuda:
        result.gpu_after = gpu_state(device)
