"""The batch-1 latency timer, its statistics, modes and the environment record
(bench.measure.latency)."""

from __future__ import annotations

import math
import time

import pytest
import torch
from torch import nn

from bench.measure.environment import (
    GpuState,
    decode_throttle_reasons,
    environment_record,
    gpu_state,
)
from bench.measure.latency import (
    LatencyStats,
    TimingConfig,
    benchmark_models,
    measure_latency,
    time_callable,
)

CPU = torch.device("cpu")
FAST = TimingConfig(warmup=1, iters=5)


class Sleeper(nn.Module):
    """Known cost: ``n`` sleeps of 2 ms per forward."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        for _ in range(self.n):
            time.sleep(0.002)
        return [x]


class Recorder(nn.Module):
    """Counts calls and remembers which input tensors it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.calls = 0
        self.inputs: set[int] = set()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        self.calls += 1
        self.inputs.add(x.data_ptr())
        return [self.conv(x)]


class RefusesAutocast(nn.Module):
    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("no kernel for this dtype\nsecond line")
        return [x]


def test_four_times_the_sleeps_measures_two_to_eight_times_longer():
    one = measure_latency(Sleeper(1), (1, 3, 8, 8), CPU, config=FAST).stats.median_ms
    four = measure_latency(Sleeper(4), (1, 3, 8, 8), CPU, config=FAST).stats.median_ms
    assert 2.0 < four / one < 8.0


def test_input_is_created_once_and_every_timed_call_counted():
    model = Recorder()
    result = measure_latency(model, (1, 3, 8, 8), CPU, config=TimingConfig(warmup=2, iters=7))
    assert result.stats.iters == 7
    assert model.calls == 2 + 7 + 1  # warm-up, timed, and the one probing call
    assert len(model.inputs) == 1


def test_time_callable_stops_at_max_time_after_three_samples():
    calls = []
    samples = time_callable(
        lambda: calls.append(1), CPU, TimingConfig(warmup=0, iters=1000, max_time_s=0.0)
    )
    assert len(samples) == 3 == len(calls)


def test_stats_of_known_samples():
    stats = LatencyStats.from_samples([1.0, 2.0, 3.0, 4.0, 5.0])
    assert stats.median_ms == 3.0 and stats.mean_ms == 3.0 and stats.iters == 5
    assert stats.iqr_ms == pytest.approx(2.0)
    assert stats.p10_ms == pytest.approx(1.4) and stats.p90_ms == pytest.approx(4.6)
    assert stats.std_ms == pytest.approx(math.sqrt(2.5))
    assert stats.cv == pytest.approx(math.sqrt(2.5) / 3.0)


def test_unsupported_mode_reports_nan_with_reason():
    result = measure_latency(RefusesAutocast(), (1, 3, 4, 4), CPU, "bf16", FAST)
    assert math.isnan(result.stats.median_ms) and result.stats.iters == 0
    assert "RuntimeError: no kernel for this dtype" == result.reason
    assert result.as_row()["reason"] == result.reason


def test_unknown_mode_names_the_mode():
    with pytest.raises(ValueError, match="'int3'"):
        measure_latency(Recorder(), (1, 3, 4, 4), CPU, "int3", FAST)


@pytest.mark.parametrize("mode", ["fp32", "channels_last", "bf16"])
def test_modes_time_a_conv_net_on_cpu(mode):
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
    result = measure_latency(model, (1, 3, 16, 16), CPU, mode, FAST)
    assert result.reason == "" and result.stats.median_ms > 0
    # channels_last converts a copy: the caller's weights keep their layout
    assert model[0].weight.is_contiguous()


def test_row_has_spread_and_environment_columns():
    row = measure_latency(Recorder(), (1, 3, 8, 8), CPU, config=FAST, name="rec").as_row()
    for column in (
        "median_ms",
        "mean_ms",
        "p10_ms",
        "p90_ms",
        "iqr_ms",
        "std_ms",
        "cv",
        "iters",
        "threads",
        "throttled",
        "input",
    ):
        assert column in row
    assert row["model"] == "rec" and row["input"] == "8x8" and row["throttled"] is False


def test_throttle_reasons_decoded_and_flagged():
    assert decode_throttle_reasons(0x1 | 0x4) == ["gpu_idle", "sw_power_cap"]
    assert GpuState(throttle_reasons=["sw_power_cap"]).throttled
    assert not GpuState(throttle_reasons=["gpu_idle"]).throttled


def test_environment_record_without_gpu_says_so():
    record = environment_record(CPU)
    assert record["torch"] == torch.__version__ and record["torch_threads"] >= 1
    assert record["gpu"]["available"] is False and record["gpu"]["reason"]
    assert gpu_state(CPU).error


@pytest.fixture
def two_registered():
    from architectures import ModelInfo, register_model, unregister_model

    names = ("tiny-latency-a", "tiny-latency-b")
    for name in names:
        info = ModelInfo(
            name=name,
            family="test",
            dataset="lip",
            input_size=(16, 16),
            output_stride=1,
            num_heatmaps=3,
        )
        register_model(info)(lambda **kw: nn.Sequential(nn.Conv2d(3, 3, 1)))
    yield names
    for name in names:
        unregister_model(name)


def test_benchmark_models_interleaves_rounds(two_registered):
    steps = []
    df = benchmark_models(
        two_registered,
        CPU,
        ("fp32", "channels_last"),
        TimingConfig(warmup=1, iters=6),
        on_step=lambda *s: steps.append(s),
        rounds=3,
    )
    assert list(df.model) == [two_registered[0]] * 2 + [two_registered[1]] * 2
    assert set(df.iters) == {6} and (df.median_ms > 0).all()
    # round by round: every (model, mode) once per round, in the same order
    assert steps == [
        (n, m) for _ in range(3) for n in two_registered for m in ("fp32", "channels_last")
    ]


# ---------------------------------------------------------------- numerics, validity, CUDA timer


def test_every_row_records_the_numerics_it_ran_with():
    fp32 = measure_latency(Recorder(), (1, 3, 8, 8), CPU, "fp32", FAST).as_row()
    assert fp32["tf32_conv"] is False and fp32["tf32_matmul"] is False
    assert "cudnn_benchmark" in fp32 and "deterministic_algorithms" in fp32


def test_fp32_is_strict_inside_and_restored_after():
    from bench.measure.numerics import numerics_flags

    before = numerics_flags()
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(numerics_flags())
            return [x]

    measure_latency(Probe(), (1, 3, 4, 4), CPU, "fp32", FAST)
    assert all(not f["tf32_conv"] and not f["tf32_matmul"] for f in seen)
    assert numerics_flags() == before


def test_tf32_on_a_cpu_is_reported_not_timed():
    result = measure_latency(Recorder(), (1, 3, 8, 8), CPU, "tf32", FAST)
    assert result.stats.iters == 0 and "CUDA" in result.reason
    assert result.as_row()["valid"] is False


@pytest.mark.parametrize(
    "samples, seconds, valid",
    [(64, 1.0, True), (63, 5.0, False), (500, 0.99, False), (3, 0.1, False)],
)
def test_validity_needs_64_samples_and_one_second(samples, seconds, valid):
    from bench.measure.latency import VALIDITY

    why = VALIDITY.check(samples, seconds)
    assert (why == "") is valid
    if samples < 64:
        assert f"{samples} samples < 64" in why


def test_short_rows_are_marked_invalid():
    row = measure_latency(Recorder(), (1, 3, 8, 8), CPU, config=FAST).as_row()
    assert row["valid"] is False and "5 samples < 64" in row["validity"]
    assert row["timed_s"] > 0


def test_build_at_size_rebuilds_only_models_whose_class_takes_a_size(two_registered):
    from architectures.registry import build_at_size

    cpm = build_at_size("cpm-original", (64, 64))
    assert tuple(cpm.info.input_size) == (64, 64)
    plain = build_at_size(two_registered[0], (32, 32))
    assert tuple(plain.info.input_size) == (32, 32)  # runs at any size as built; info says so


def test_build_at_size_lets_a_builders_own_type_error_through():
    from architectures import ModelInfo, register_model, unregister_model
    from architectures.registry import build_at_size

    info = ModelInfo(
        name="tiny-broken",
        family="test",
        dataset="lip",
        input_size=(16, 16),
        output_stride=1,
        num_heatmaps=3,
    )

    def broken(**overrides):
        raise TypeError("bug inside the builder")

    register_model(info)(broken)
    try:
        with pytest.raises(TypeError, match="bug inside the builder"):
            build_at_size("tiny-broken", (32, 32))
    finally:
        unregister_model("tiny-broken")


class _FakeEvent:
    def __init__(self, log: list, enable_timing: bool = False) -> None:
        self.log = log

    def record(self) -> None:
        self.log.append("record")

    def synchronize(self) -> None:
        self.log.append("event.synchronize")

    def elapsed_time(self, other: _FakeEvent) -> float:
        return 1.5


def test_cuda_sample_synchronizes_before_the_start_event(monkeypatch):
    """No GPU needed: fake events and synchronize record the order of calls."""
    from bench.measure import latency

    log: list[str] = []
    monkeypatch.setattr(torch.cuda, "Event", lambda enable_timing=False: _FakeEvent(log))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: log.append("synchronize"))
    ms = latency._cuda_sample(lambda: log.append("fn"), torch.device("cuda"))
    assert ms == 1.5
    assert log == ["synchronize", "record", "fn", "record", "event.synchronize"]


def test_time_callable_on_a_fake_cuda_device_uses_events(monkeypatch):
    log: list[str] = []
    monkeypatch.setattr(torch.cuda, "Event", lambda enable_timing=False: _FakeEvent(log))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: log.append("synchronize"))
    samples = time_callable(
        lambda: log.append("fn"), torch.device("cuda"), TimingConfig(warmup=2, iters=3)
    )
    assert samples == [1.5] * 3
    # warm-up calls, one synchronize after them, then per sample: synchronize before the start
    assert log[:3] == ["fn", "fn", "synchronize"]
    assert log[3:].count("synchronize") == 3 and log[3:8] == [
        "synchronize",
        "record",
        "fn",
        "record",
        "event.synchronize",
    ]
