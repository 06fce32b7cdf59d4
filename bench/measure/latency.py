"""Batch-1 inference latency of registered pose networks, with spread statistics.

Protocol of the GCPM paper (Osokin 2019, Sec. 5.1): batch size 1, one image at a time, fp32 eager
PyTorch. On CUDA, ``cudnn.benchmark`` is on, every iteration is bracketed by CUDA events after a
synchronize, so each sample is the latency of one request (launch overhead included) and nothing
of the harness; on CPU the same loop uses ``time.perf_counter_ns``. The input is created once,
outside the timed region, and the whole loop runs under ``torch.inference_mode``. ``fp32`` is
strict IEEE fp32 (TF32 off, :mod:`bench.measure.numerics`); every row records the flags it ran with.

Each timing window (one model's timed loop in one round) is bracketed by NVML's cumulative
counters, so a row carries the share of its windows that power or thermal limits held the clocks
down and, over windows adding up to at least 1 s, its energy per inference. A row's percentiles
are marked invalid, in the manner of MLPerf's run rules, when it has fewer than 64 samples or
less than 1 s of timed wall time (:class:`ValidityRule`).

Several models are timed in interleaved rounds, so that a change in machine load during a run
spreads over all of them instead of distorting one model's figure (and every speed-up with it).

Modes: ``fp32`` (the paper's), ``tf32`` (TF32 tensor-core convolutions and matmuls, CUDA >= 8.0),
``channels_last``, ``bf16`` and ``fp16`` autocast. A mode the device cannot run is reported as NaN
with the reason, never raised.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from architectures.registry import build_at_size, input_shape
from bench.measure.environment import GpuState, WindowTotals, gpu_state, read_counters
from bench.measure.numerics import (
    TF32_MODES,
    cudnn_benchmark,
    numerics_flags,
    precision,
    tf32_unsupported,
)

MODES: tuple[str, ...] = ("fp32", "tf32", "channels_last", "bf16", "fp16")
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
_MIN_SAMPLES = 3  # fewer samples make percentiles and CV meaningless


@dataclass(frozen=True)
class TimingConfig:
    """How long to time: ``iters`` samples after ``warmup`` untimed runs.

    Sampling continues past ``iters`` until ``min_time_s`` has elapsed, and stops early (after at
    least 3 samples) once ``max_time_s`` has elapsed, which keeps slow models on a CPU bounded.
    """

    warmup: int = 10
    iters: int = 100
    min_time_s: float = 0.0
    max_time_s: float | None = None

    def __post_init__(self) -> None:
        if self.warmup < 0 or self.iters < 1:
            raise ValueError(f"TimingConfig needs warmup >= 0 and iters >= 1, got {self}")


@dataclass(frozen=True)
class ValidityRule:
    """When a row's percentiles mean something, in the manner of MLPerf's run rules.

    MLPerf inference asks each single-stream run for a minimum number of queries and a minimum
    duration before its 90th percentile counts. The same two conditions, scaled to a short GPU
    loan: a p90 from fewer than 64 samples rests on 6 or fewer of them, and a window under a
    second sees neither clock boost settling nor the energy counter move.
    """

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
    """Summary of per-iteration latencies in milliseconds."""

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
            return cls.missing()
        p10, q1, med, q3, p90 = np.percentile(a, [10, 25, 50, 75, 90])
        std = float(a.std(ddof=1)) if a.size > 1 else 0.0
        mean = float(a.mean())
        return cls(
            float(med),
            mean,
            float(p10),
            float(p90),
            float(q3 - q1),
            std,
            std / mean if mean > 0 else math.nan,
            int(a.size),
        )

    @classmethod
    def missing(cls) -> LatencyStats:
        nan = math.nan
        return cls(nan, nan, nan, nan, nan, nan, nan, 0)


@dataclass
class LatencyResult:
    """One model timed in one mode on one device."""

    model: str
    mode: str
    device: str
    input_size: tuple[int, int]
    threads: int
    stats: LatencyStats
    reason: str = ""  # why the stats are NaN (mode unsupported on this device)
    gpu_before: GpuState = field(default_factory=GpuState)
    gpu_after: GpuState = field(default_factory=GpuState)
    flags: dict = field(default_factory=dict)  # numerics flags the timing ran with
    window: WindowTotals = field(default_factory=WindowTotals)

    @property
    def throttled(self) -> bool:
        """Throttling seen in a snapshot before or after, or as violation time in a window."""
        in_window = self.window.throttled_pct()
        return (
            self.gpu_before.throttled
            or self.gpu_after.throttled
            or (not math.isnan(in_window) and in_window > 0)
        )

    @property
    def validity(self) -> str:
        if self.reason:
            return "not measured"
        return VALIDITY.check(self.stats.iters, self.window.duration_s)

    def as_row(self) -> dict:
        reasons = sorted(
            set(self.gpu_before.throttle_reasons) | set(self.gpu_after.throttle_reasons)
        )
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
            **self.flags,
        }


def synchronize(device: torch.device) -> None:
    """Wait for ``device`` to finish what is queued (a no-op on a CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _cuda_sample(fn: Callable[[], object], device: torch.device) -> float:
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize(device)  # nothing queued before the start event
    start.record()
    fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end)


Sampler = Callable[[Callable[[], object], torch.device], float]


def _clock_sample(clock: Callable[[], int]) -> Sampler:
    def sample(fn: Callable[[], object], device: torch.device) -> float:
        t0 = clock()
        fn()
        return (clock() - t0) / 1e6

    return sample


def time_callable(
    fn: Callable[[], object],
    device: torch.device,
    config: TimingConfig,
    cpu_clock: Callable[[], int] = time.perf_counter_ns,
) -> list[float]:
    """Per-call latencies of ``fn`` in ms: ``config.warmup`` untimed calls, then the timed ones.

    On CPU, ``cpu_clock`` (ns) may be ``time.process_time_ns`` to count only this process's CPU
    time, which other processes on a shared machine disturb far less than wall time.
    """
    sample = _cuda_sample if device.type == "cuda" else _clock_sample(cpu_clock)
    for _ in range(config.warmup):
        fn()
    synchronize(device)
    samples: list[float] = []
    start = time.perf_counter()
    while True:
        samples.append(sample(fn, device))
        elapsed = time.perf_counter() - start
        if len(samples) >= config.iters and elapsed >= config.min_time_s:
            return samples
        if (
            config.max_time_s is not None
            and elapsed >= config.max_time_s
            and len(samples) >= min(_MIN_SAMPLES, config.iters)
        ):
            return samples


@contextlib.contextmanager
def _mode_context(mode: str, device: torch.device):
    """The mode's TF32 policy, and autocast for bf16 / fp16."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(precision(mode))
        if mode in _AUTOCAST_DTYPES:
            stack.enter_context(
                torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[mode])
            )
        yield


def prepare(
    model: nn.Module, input_shape: Sequence[int], device: torch.device, mode: str
) -> tuple[nn.Module, torch.Tensor]:
    """The model in eval mode on ``device`` and one input, laid out for ``mode``.

    ``channels_last`` converts a copy, so the caller's model keeps its memory format.
    """
    if mode not in MODES:
        raise ValueError(f"unknown latency mode {mode!r}; known modes: {', '.join(MODES)}")
    x = torch.randn(*input_shape, device=device)
    if mode == "channels_last":
        model = copy.deepcopy(model).to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return model.eval().to(device), x


def _autocast_inactive(mode: str, device: torch.device) -> str:
    """Some torch versions silently disable an unsupported autocast dtype; catch that here."""
    if mode not in _AUTOCAST_DTYPES:
        return ""
    try:
        active = torch.is_autocast_enabled(device.type)
        dtype = torch.get_autocast_dtype(device.type)
    except (TypeError, AttributeError):  # older signatures: cannot tell, trust the context
        return ""
    if not active or dtype != _AUTOCAST_DTYPES[mode]:
        return f"{mode} autocast is not supported on {device.type} by torch {torch.__version__}"
    return ""


def _unsupported_reason(model: nn.Module, x: torch.Tensor, mode: str) -> str:
    """Run once; an exception means the mode is unsupported here, reported as its reason."""
    if mode in TF32_MODES and tf32_unsupported(x.device):
        return tf32_unsupported(x.device)
    inactive = _autocast_inactive(mode, x.device)
    if inactive:
        return inactive
    try:
        model(x)
    except (RuntimeError, NotImplementedError, TypeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {first_line[:200]}"
    return ""


def measure_latency(
    model: nn.Module,
    input_shape: Sequence[int],
    device: torch.device,
    mode: str = "fp32",
    config: TimingConfig = TimingConfig(),
    name: str = "",
) -> LatencyResult:
    """Time ``model`` on a random batch of ``input_shape`` (N, C, H, W) in ``mode``."""
    job = _Job(name or type(model).__name__, mode, *prepare(model, input_shape, device, mode))
    with torch.inference_mode(), cudnn_benchmark(device):
        _probe_and_warm_up(job, device, config.warmup)
        if not job.reason:
            _time_round(job, device, replace(config, warmup=0), first=True, last=True)
    return job.result(device)


@dataclass
class _Job:
    """One (model, mode) of an interleaved benchmark, with its samples so far."""

    name: str
    mode: str
    model: nn.Module
    x: torch.Tensor
    reason: str = ""
    samples: list[float] = field(default_factory=list)
    gpu_before: GpuState = field(default_factory=GpuState)
    gpu_after: GpuState = field(default_factory=GpuState)
    flags: dict = field(default_factory=dict)
    window: WindowTotals = field(default_factory=WindowTotals)

    def run(self, fn: Callable[[nn.Module, torch.Tensor], object], device: torch.device):
        with _mode_context(self.mode, device):
            self.flags = numerics_flags()  # what this mode really ran with
            return fn(self.model, self.x)

    def result(self, device: torch.device) -> LatencyResult:
        return LatencyResult(
            self.name,
            self.mode,
            str(device),
            tuple(self.x.shape[-2:]),
            torch.get_num_threads(),
            LatencyStats.from_samples(self.samples),
            self.reason,
            self.gpu_before,
            self.gpu_after,
            self.flags,
            self.window,
        )


def _per_round(config: TimingConfig, rounds: int) -> TimingConfig:
    return TimingConfig(
        0,
        max(1, math.ceil(config.iters / rounds)),
        config.min_time_s / rounds,
        None if config.max_time_s is None else config.max_time_s / rounds,
    )


def _jobs(
    names: Sequence[str],
    device: torch.device,
    modes: Sequence[str],
    input_size: tuple[int, int] | None,
) -> list[_Job]:
    jobs = []
    for name in names:
        model = build_at_size(name, input_size).eval().to(device)
        shape = input_shape(model.info, input_size)
        jobs += [_Job(name, mode, *prepare(model, shape, device, mode)) for mode in modes]
    return jobs


def benchmark_models(
    names: Sequence[str],
    device: torch.device,
    modes: Sequence[str] = ("fp32",),
    config: TimingConfig = TimingConfig(),
    input_size: tuple[int, int] | None = None,
    on_step: Callable[[str, str], None] | None = None,
    rounds: int = 1,
) -> pd.DataFrame:
    """Latency of registered models, one row per (model, mode).

    With ``rounds`` > 1 the samples of every (model, mode) are taken in interleaved rounds, so
    a change in machine load during the run spreads over all models instead of hitting one.
    ``on_step(name, mode)`` is called once per (model, mode) and round (a progress bar).
    """
    if rounds < 1:  # zero rounds divided the budget by zero after building every model
        raise ValueError(f"benchmark_models needs rounds >= 1, got {rounds}")
    jobs = _jobs(names, device, modes, input_size)
    per_round = _per_round(config, rounds)
    with torch.inference_mode(), cudnn_benchmark(device):
        for job in jobs:
            _probe_and_warm_up(job, device, config.warmup)
        for r in range(rounds):
            for job in jobs:
                if not job.reason:
                    _time_round(job, device, per_round, first=r == 0, last=r == rounds - 1)
                if on_step is not None:
                    on_step(job.name, job.mode)
    return pd.DataFrame([job.result(device).as_row() for job in jobs])


def _probe_and_warm_up(job: _Job, device: torch.device, warmup: int) -> None:
    job.reason = job.run(lambda m, x: _unsupported_reason(m, x, job.mode), device)
    if not job.reason:
        for _ in range(warmup):
            job.run(lambda m, x: m(x), device)


def _time_round(
    job: _Job, device: torch.device, config: TimingConfig, first: bool, last: bool
) -> None:
    """One timing window; GPU state is read before the first and after the last round.

    The NVML counters bracket the timed loop alone, so the window's violation time and energy
    belong to this (model, mode) and not to the rounds of other models in between.
    """
    on_cuda = device.type == "cuda"
    if first and on_cuda:
        job.gpu_before = gpu_state(device)
    before = read_counters(device)
    samples = job.run(lambda m, x: time_callable(lambda: m(x), device, config), device)
    job.window.add(before, read_counters(device), len(samples))
    job.samples += samples
    if last and on_cuda:
        job.gpu_after = gpu_state(device)
