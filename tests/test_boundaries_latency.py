"""bench.latency at its boundaries (mutation run, issue 14): the CUDA timer on a fake device
(timing events, the device it synchronises, cuda:1), the stop rules at exactly min/max time
(a fake clock, no wall-clock assertion), nanoseconds to milliseconds, statistics of 0, 1 and 2
samples, and how a multi-round budget is split."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from bench import latency
from bench.latency import LatencyStats, TimingConfig, ValidityRule, time_callable

CUDA1 = torch.device("cuda", 1)


class _Event:
    """A CUDA event as far as the timer uses it; elapsed_time refuses as CUDA does."""

    def __init__(self, log: list, enable_timing: bool = False) -> None:
        self.log, self.timing = log, enable_timing

    def record(self) -> None:
        self.log.append("record")

    def synchronize(self) -> None:
        self.log.append("event.synchronize")

    def elapsed_time(self, end: _Event) -> float:
        if not (self.timing is True and isinstance(end, _Event) and end.timing is True):
            raise RuntimeError("Both events must be created with enable_timing=True")
        return 1.5


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> list:
    log: list = []
    monkeypatch.setattr(torch.cuda, "Event", lambda enable_timing=False: _Event(log, enable_timing))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: log.append(("sync", device)))
    return log


def test_cuda_timer_uses_timing_events_and_synchronises_the_device_it_times(fake_cuda) -> None:
    samples = time_callable(lambda: fake_cuda.append("fn"), CUDA1, TimingConfig(1, 2))
    assert samples == [1.5, 1.5]
    assert fake_cuda[:2] == ["fn", ("sync", CUDA1)]  # warm-up, then the device waits
    assert fake_cuda[2:7] == [("sync", CUDA1), "record", "fn", "record", "event.synchronize"]
    latency.synchronize(CUDA1)
    assert fake_cuda[-1] == ("sync", CUDA1)


def _fake_perf_counter(monkeypatch: pytest.MonkeyPatch, start: float = 100.0) -> None:
    ticks = itertools.count(start)  # one second per call: elapsed is 1, 2, 3 ... after samples
    monkeypatch.setattr(latency.time, "perf_counter", lambda: float(next(ticks)))


def _count(config: TimingConfig) -> int:
    return len(time_callable(lambda: None, torch.device("cpu"), config, cpu_clock=lambda: 0))


def test_min_time_reached_exactly_stops_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_perf_counter(monkeypatch)
    assert _count(TimingConfig(0, 1, min_time_s=3.0)) == 3
    assert _count(TimingConfig(0, 1, min_time_s=2.5)) == 3


def test_max_time_reached_exactly_stops_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_perf_counter(monkeypatch)
    assert latency._MIN_SAMPLES <= 4
    assert _count(TimingConfig(0, 100, max_time_s=4.0)) == 4


def test_cpu_clock_nanoseconds_become_milliseconds() -> None:
    ticks = itertools.chain.from_iterable((0, 2_500_000) for _ in range(3))
    samples = time_callable(
        lambda: None, torch.device("cpu"), TimingConfig(0, 3), cpu_clock=lambda: next(ticks)
    )
    assert samples == [2.5, 2.5, 2.5]


def test_statistics_of_one_two_and_zero_samples() -> None:
    one = LatencyStats.from_samples([4.0])
    assert (one.std_ms, one.cv, one.iters) == (0.0, 0.0, 1)
    two = LatencyStats.from_samples([0.5, 0.7])  # under 1 ms, as on a GPU
    assert two.std_ms == pytest.approx(math.sqrt(0.02)) and two.cv == pytest.approx(
        two.std_ms / 0.6
    )
    zero = LatencyStats.from_samples([0.0, 0.0])  # below the clock's resolution
    assert zero.std_ms == 0.0 and math.isnan(zero.cv)
    for missing in (LatencyStats.missing(), LatencyStats.from_samples([])):
        values = [
            getattr(missing, f)
            for f in ("median_ms", "mean_ms", "p10_ms", "p90_ms", "iqr_ms", "std_ms", "cv")
        ]
        assert all(isinstance(v, float) and math.isnan(v) for v in values) and missing.iters == 0


def test_validity_lists_every_condition_missed() -> None:
    assert ValidityRule().check(10, 0.5) == "10 samples < 64; 0.50 s timed < 1 s"
    assert ValidityRule().check(64, 1.0) == ""


def test_a_budget_split_over_rounds() -> None:
    assert latency._per_round(TimingConfig(10, 100, 3.0, 6.0), 4) == TimingConfig(0, 25, 0.75, 1.5)
    assert latency._per_round(TimingConfig(10, 1, 0.0, None), 4) == TimingConfig(0, 1, 0.0, None)
