"""Batch-1 inference latency of registered pose networks, with spread statistics.

Protocol of the GCPM paper (Osokin 2019, Sec. 5.1): batch size 1, one image at a time, fp32 eager
PyTorch. On CUDA, ``cudnn.benchmark`` is on, every iteration is bracketed by CUDA events after a
synchronize, so each sample is the latency of one request (launch overhead included) and nothing
of the harness; on CPU the same loop uses ``time.perf_counter_ns``. The input is created once,
outside the timed region, and the whole loop runs under ``torch.inference_mode``.

Several models are timed in interleaved rounds, so that a change in machine load during a run
spreads over all of them instead of distorting one model's figure (and every speed-up with it).

Modes: ``fp32`` (the paper's), ``channels_last``, ``bf16`` and ``fp16`` autocast. A mode the device
cannot run is reported as NaN with the reason, never raised.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator, Optional, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .environment import GpuState, gpu_state

MODES: tuple[str, ...] = ("fp32", "channels_last", "bf16", "fp16")
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
    max_time_s: Optional[float] = None

    def __post_init__(self) -> None:
        if self.warmup < 0 or self.iters < 1:
            raise ValueError(f"TimingConfig needs warmup >= 0 and iters >= 1, got {self}")


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
    def from_samples(cls, samples_ms: Sequence[float]) -> "LatencyStats":
        a = np.asarray(samples_ms, dtype=float)
        if a.size == 0:
            return cls.missing()
        p10, q1, med, q3, p90 = np.percentile(a, [10, 25, 50, 75, 90])
        std = float(a.std(ddof=1)) if a.size > 1 else 0.0
        mean = float(a.mean())
        return cls(float(med), mean, float(p10), float(p90), float(q3 - q1), std,
                   std / mean if mean > 0 else math.nan, int(a.size))

    @classmethod
    def missing(cls) -> "LatencyStats":
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

    @property
    def throttled(self) -> bool:
        return self.gpu_before.throttled or self.gpu_after.throttled

    def as_row(self) -> dict:
        reasons = sorted(set(self.gpu_before.throttle_reasons)
                         | set(self.gpu_after.throttle_reasons))
        return {
            "model": self.model, "mode": self.mode, "device": self.device,
            "input": f"{self.input_size[0]}x{self.input_size[1]}", "threads": self.threads,
            **asdict(self.stats), "reason": self.reason, "throttled": self.throttled,
            "throttle_reasons": ",".join(reasons),
            "sm_clock_before_mhz": self.gpu_before.sm_clock_mhz,
            "sm_clock_after_mhz": self.gpu_after.sm_clock_mhz,
            "temperature_after_c": self.gpu_after.temperature_c,
        }


def _synchronize(device: torch.device) -> None:
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


def time_callable(fn: Callable[[], object], device: torch.device, config: TimingConfig,
                  cpu_clock: Callable[[], int] = time.perf_counter_ns) -> list[float]:
    """Per-call latencies of ``fn`` in ms: ``config.warmup`` untimed calls, then the timed ones.

    On CPU, ``cpu_clock`` (ns) may be ``time.process_time_ns`` to count only this process's CPU
    time, which other processes on a shared machine disturb far less than wall time.
    """
    sample = _cuda_sample if device.type == "cuda" else _clock_sample(cpu_clock)
    for _ in range(config.warmup):
        fn()
    _synchronize(device)
    samples: list[float] = []
    start = time.perf_counter()
    while True:
        samples.append(sample(fn, device))
        elapsed = time.perf_counter() - start
        if len(samples) >= config.iters and elapsed >= config.min_time_s:
            return samples
        if config.max_time_s is not None and elapsed >= config.max_time_s \
                and len(samples) >= min(_MIN_SAMPLES, config.iters):
            return samples


@contextlib.contextmanager
def cudnn_benchmark(device: torch.device) -> Iterator[None]:
    """cudnn autotuning for the timed run only; the caller's setting is restored afterwards."""
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = device.type == "cuda" or previous
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


def _mode_context(mode: str, device: torch.device) -> contextlib.AbstractContextManager:
    if mode in _AUTOCAST_DTYPES:
        return torch.autocast(device_type=device.type, dtype=_AUTOCAST_DTYPES[mode])
    return contextlib.nullcontext()


def prepare(model: nn.Module, input_shape: Sequence[int], device: torch.device,
            mode: str) -> tuple[nn.Module, torch.Tensor]:
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
    inactive = _autocast_inactive(mode, x.device)
    if inactive:
        return inactive
    try:
        model(x)
    except (RuntimeError, NotImplementedError, TypeError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {first_line[:200]}"
    return ""


def measure_latency(model: nn.Module, input_shape: Sequence[int], device: torch.device,
                    mode: str = "fp32", config: TimingConfig = TimingConfig(),
                    name: str = "") -> LatencyResult:
    """Time ``model`` on a random batch of ``input_shape`` (N, C, H, W) in ``mode``."""
    model, x = prepare(model, input_shape, device, mode)
    before = gpu_state(device) if device.type == "cuda" else GpuState()
    with torch.inference_mode(), cudnn_benchmark(device), _mode_context(mode, device):
        reason = _unsupported_reason(model, x, mode)
        samples = [] if reason else time_callable(lambda: model(x), device, config)
    after = gpu_state(device) if device.type == "cuda" else GpuState()
    return LatencyResult(name or type(model).__name__, mode, str(device),
                         (int(input_shape[-2]), int(input_shape[-1])), torch.get_num_threads(),
                         LatencyStats.from_samples(samples), reason, before, after)


def input_shape_of(model: nn.Module,
                   input_size: Optional[tuple[int, int]] = None) -> tuple[int, ...]:
    """Batch-1 NCHW shape from ``model.info`` (registry facts); ``input_size`` overrides H, W."""
    info = getattr(model, "info", None)
    if info is None and input_size is None:
        raise ValueError(f"{type(model).__name__} has no .info; pass input_size=(H, W)")
    h, w = input_size if input_size is not None else info.input_size
    return (1, info.in_channels if info is not None else 3, h, w)


def build_at_size(name: str, input_size: Optional[tuple[int, int]] = None) -> nn.Module:
    """A registered model, rebuilt for ``input_size`` where its builder takes that override.

    Builders that fix sizes inside the network (CPM's centre-map prior) need the override; one
    that does not accept it gets the plain model and its ``info`` keeps the registered size.
    """
    from architectures import create_model

    if input_size is None:
        return create_model(name)
    try:
        return create_model(name, input_size=tuple(input_size))
    except TypeError:
        return create_model(name)


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

    def run(self, fn: Callable[[nn.Module, torch.Tensor], object], device: torch.device):
        with _mode_context(self.mode, device):
            return fn(self.model, self.x)

    def result(self, device: torch.device) -> LatencyResult:
        return LatencyResult(self.name, self.mode, str(device), tuple(self.x.shape[-2:]),
                             torch.get_num_threads(), LatencyStats.from_samples(self.samples),
                             self.reason, self.gpu_before, self.gpu_after)


def _per_round(config: TimingConfig, rounds: int) -> TimingConfig:
    return TimingConfig(0, max(1, math.ceil(config.iters / rounds)), config.min_time_s / rounds,
                        None if config.max_time_s is None else config.max_time_s / rounds)


def _jobs(names: Sequence[str], device: torch.device, modes: Sequence[str],
          input_size: Optional[tuple[int, int]]) -> list[_Job]:
    jobs = []
    for name in names:
        model = build_at_size(name, input_size).eval().to(device)
        shape = input_shape_of(model, input_size)
        jobs += [_Job(name, mode, *prepare(model, shape, device, mode)) for mode in modes]
    return jobs


def benchmark_models(names: Sequence[str], device: torch.device, modes: Sequence[str] = ("fp32",),
                     config: TimingConfig = TimingConfig(),
                     input_size: Optional[tuple[int, int]] = None,
                     on_step: Optional[Callable[[str, str], None]] = None,
                     rounds: int = 1) -> pd.DataFrame:
    """Latency of registered models, one row per (model, mode).

    With ``rounds`` > 1 the samples of every (model, mode) are taken in interleaved rounds, so
    a change in machine load during the run spreads over all models instead of hitting one.
    ``on_step(name, mode)`` is called once per (model, mode) and round (a progress bar).
    """
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


def _time_round(job: _Job, device: torch.device, config: TimingConfig, first: bool,
                last: bool) -> None:
    """One round of samples; GPU state is read before the first and after the last round."""
    on_cuda = device.type == "cuda"
    if first and on_cuda:
        job.gpu_before = gpu_state(device)
    job.samples += job.run(lambda m, x: time_callable(lambda: m(x), device, config), device)
    if last and on_cuda:
        job.gpu_after = gpu_state(device)
