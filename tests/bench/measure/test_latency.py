"""The batch-1 latency timer (bench.measure.latency): the CUDA timer on a fake device, stop rules
on a fake clock, statistics, modes, rows and their columns (NVML windows and machine load from
fake readings), interleaved rounds."""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict

import pytest
import torch
from torch import nn

from architectures import model_info
from bench.measure import latency
from bench.measure.environment import (
    GpuCounters,
    GpuState,
    WindowTotals,
    decode_throttle_reasons,
    environment_record,
    gpu_state,
)
from bench.measure.latency import (
    LatencyResult,
    LatencyStats,
    TimingConfig,
    ValidityRule,
    benchmark_models,
    time_callable,
)
from bench.measure.load import LoadWindow

CPU = torch.device("cpu")
FAST = TimingConfig(warmup=1, iters=5)


def _make_job(name, mode, model, shape, device) -> latency._Job:
    size, threads = tuple(shape[-2:]), torch.get_num_threads()
    result = latency.LatencyResult(name, mode, str(device), size, threads)
    return latency._Job(*latency.prepare(model, shape, device, mode), result)


def measure_latency(model, shape, device=CPU, mode="fp32", config=FAST, name=""):
    """One model timed in one round, as ``benchmark_models`` times each (model, mode)."""
    job = _make_job(name or type(model).__name__, mode, model, shape, device)
    latency._run([job], device, config, 1, lambda *step: None)
    return job.result


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
    assert result.reason == "" and result.stats.iters == 5
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
    assert record["torch"] == torch.__version__
    assert record["torch_threads"] == torch.get_num_threads()
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
    assert set(df.iters) == {6}
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
    why = latency.VALIDITY.check(samples, seconds)
    assert (why == "") is valid
    if samples < 64:
        assert f"{samples} samples < 64" in why


def test_short_rows_are_marked_invalid():
    row = measure_latency(Recorder(), (1, 3, 8, 8), CPU, config=FAST).as_row()
    assert row["valid"] is False and "5 samples < 64" in row["validity"]


def test_build_at_size_rebuilds_only_models_whose_class_takes_a_size(two_registered):
    from architectures.registry import build_at_size

    cpm = build_at_size("cpm-original", (64, 64))
    assert tuple(cpm.info.input_size) == (64, 64)
    plain = build_at_size(two_registered[0], (32, 32))
    assert tuple(plain.info.input_size) == (32, 32)  # runs at any size as built; info says so


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
    return len(time_callable(lambda: None, torch.device("cpu"), config))


def test_min_time_reached_exactly_stops_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_perf_counter(monkeypatch)
    assert _count(TimingConfig(0, 1, min_time_s=3.0)) == 3
    assert _count(TimingConfig(0, 1, min_time_s=2.5)) == 3


def test_max_time_reached_exactly_stops_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_perf_counter(monkeypatch)
    # The fake clock reads n s elapsed after the n-th sample; n is past the minimum sample count,
    # so the time limit, reached exactly, is what stops sampling (one more sample with ``>``).
    n = max(latency._MIN_SAMPLES, 4)
    assert _count(TimingConfig(0, 100, max_time_s=float(n))) == n


def test_cpu_clock_nanoseconds_become_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = itertools.chain.from_iterable((0, 2_500_000) for _ in range(3))
    monkeypatch.setattr(latency.time, "perf_counter_ns", lambda: next(ticks))
    assert time_callable(lambda: None, torch.device("cpu"), TimingConfig(0, 3)) == [2.5] * 3


def test_statistics_of_one_two_and_zero_samples() -> None:
    one = LatencyStats.from_samples([4.0])
    assert (one.std_ms, one.cv, one.iters) == (0.0, 0.0, 1)
    two = LatencyStats.from_samples([0.5, 0.7])  # under 1 ms, as on a GPU
    assert two.std_ms == pytest.approx(math.sqrt(0.02)) and two.cv == pytest.approx(
        two.std_ms / 0.6
    )
    zero = LatencyStats.from_samples([0.0, 0.0])  # below the clock's resolution
    assert zero.std_ms == 0.0 and math.isnan(zero.cv)
    for missing in (LatencyStats.from_samples([]), LatencyStats.from_samples(())):
        values = [
            getattr(missing, f)
            for f in ("median_ms", "mean_ms", "p10_ms", "p90_ms", "iqr_ms", "std_ms", "cv")
        ]
        assert all(isinstance(v, float) and math.isnan(v) for v in values) and missing.iters == 0


def test_validity_lists_every_condition_missed() -> None:
    assert ValidityRule().check(10, 0.5) == "10 samples < 64; 0.50 s timed < 1 s"
    assert ValidityRule().check(64, 1.0) == ""


def test_a_budget_split_over_rounds() -> None:
    assert TimingConfig(10, 100, 3.0, 6.0).per_round(4) == TimingConfig(0, 25, 0.75, 1.5)
    assert TimingConfig(10, 1, 0.0, None).per_round(4) == TimingConfig(0, 1, 0.0, None)


# ------------------------------------------ what a user sees: rows, modes, rounds, NVML windows


def test_timing_config_refuses_negative_warm_up_and_zero_samples() -> None:
    assert TimingConfig(0, 1) == TimingConfig(warmup=0, iters=1, min_time_s=0.0, max_time_s=None)
    for warmup, iters in ((-1, 1), (0, 0)):
        with pytest.raises(ValueError, match=r"^TimingConfig needs warmup >= 0 and iters >= 1"):
            TimingConfig(warmup, iters)
    assert TimingConfig() == TimingConfig(10, 100, 0.0, None)


def _result(**fields) -> LatencyResult:
    base = {
        "model": "net",
        "mode": "fp32",
        "device": "cuda:0",
        "input_size": (256, 192),
        "threads": 4,
        "samples": [2.0] * 64,
        "window": WindowTotals(1.5, 2, 64, {"power": 0.3, "thermal": 0.0}, 640.0),
        "load": LoadWindow(0.5, 1.5, {"ticks_total": 200, "ticks_steal": 10}, 2),
    }
    return LatencyResult(**{**base, **fields})


def test_every_column_of_a_latency_row() -> None:
    result = _result(
        gpu_before=GpuState(sm_clock_mhz=1400, throttle_reasons=["sw_power_cap", "gpu_idle"]),
        gpu_after=GpuState(sm_clock_mhz=1300, temperature_c=70, throttle_reasons=["hw_slowdown"]),
        flags={"tf32_conv": False},
    )
    row = result.as_row()
    assert list(row) == [
        "model", "mode", "device", "input", "threads", "median_ms", "mean_ms", "p10_ms",
        "p90_ms", "iqr_ms", "std_ms", "cv", "iters", "reason", "timed_s", "valid", "validity",
        "throttled", "throttle_reasons", "throttled_pct", "violation_pct",
        "energy_per_inference_mj", "energy_note", "sm_clock_before_mhz", "sm_clock_after_mhz",
        "temperature_after_c", "load_1m_before", "load_1m_after", "steal_pct", "tf32_conv",
    ]  # fmt: skip
    assert row == {
        "model": "net",
        "mode": "fp32",
        "device": "cuda:0",
        "input": "256x192",  # height x width
        "threads": 4,
        **asdict(LatencyStats.from_samples([2.0] * 64)),
        "reason": "",
        "timed_s": 1.5,
        "valid": True,
        "validity": "ok",
        "throttled": True,
        "throttle_reasons": "gpu_idle,hw_slowdown,sw_power_cap",  # before and after, once each
        "throttled_pct": 20.0,
        "violation_pct": "power 20.0",
        "energy_per_inference_mj": 10.0,
        "energy_note": "",
        "sm_clock_before_mhz": 1400,
        "sm_clock_after_mhz": 1300,
        "temperature_after_c": 70,
        "load_1m_before": 0.5,
        "load_1m_after": 1.5,
        "steal_pct": 5.0,
        "tf32_conv": False,
    }


def test_throttled_by_a_snapshot_before_or_after_or_by_violation_time_in_a_window() -> None:
    idle = GpuState(throttle_reasons=["gpu_idle"])
    capped = GpuState(throttle_reasons=["sw_power_cap"])
    quiet = WindowTotals(1.0, 1, 64, {"power": 0.0})
    assert not _result(window=quiet, gpu_before=idle, gpu_after=idle).throttled
    assert not _result(window=WindowTotals(1.0, 1, 64)).throttled  # no counters: NaN share
    assert _result(window=quiet, gpu_before=capped).throttled
    assert _result(window=quiet, gpu_after=capped).throttled
    assert _result(window=WindowTotals(1.0, 1, 64, {"thermal": 1e-9})).throttled
    assert not _result(window=WindowTotals(1.0, 1, 64, {"sync_boost": 0.5})).throttled


def test_a_row_not_measured_or_too_short_says_why_and_is_invalid() -> None:
    row = _result(reason="tf32 unsupported", samples=[]).as_row()
    assert (row["valid"], row["validity"], row["reason"]) == (False, "not measured", row["reason"])
    short = _result(window=WindowTotals(0.99, 1, 64)).as_row()
    assert (short["valid"], short["validity"]) == (False, "0.99 s timed < 1 s")
    few = _result(samples=[2.0] * 63).as_row()
    assert (few["valid"], few["validity"]) == (False, "63 samples < 64")


def _autocast_state() -> tuple[bool, torch.dtype]:
    return torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")


def test_each_mode_runs_with_its_autocast_dtype_and_tf32_policy() -> None:
    from bench.measure.numerics import numerics_flags

    outside = _autocast_state()
    cpu = torch.device("cpu")
    for mode, autocast, tf32 in (
        ("fp32", False, False),
        ("channels_last", False, False),
        ("tf32", False, True),
        ("bf16", (True, torch.bfloat16), False),
        ("fp16", (True, torch.float16), False),
    ):
        result = LatencyResult("m", mode, "cpu", (1, 1), 1)
        job = latency._Job(nn.Identity(), torch.zeros(1), result)
        state, flags = job.run(lambda m, x: (_autocast_state(), numerics_flags()), cpu)
        assert (state if autocast else state[0]) == (autocast or False), mode
        assert flags["tf32_conv"] is tf32 and flags["tf32_matmul"] is tf32, mode
    assert _autocast_state() == outside


def test_prepare_lays_out_a_copy_for_channels_last_only() -> None:
    model = nn.Conv2d(3, 4, 3).train()
    same, x = latency.prepare(model, (1, 3, 5, 6), torch.device("cpu"), "fp32")
    assert same is model and not model.training and tuple(x.shape) == (1, 3, 5, 6)
    copy, y = latency.prepare(model.train(), (1, 3, 5, 6), torch.device("cpu"), "channels_last")
    assert copy is not model and not copy.training and model.training
    assert y.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous()
    assert copy.weight.is_contiguous(memory_format=torch.channels_last)
    meta = torch.device("meta")  # a device other than the default one, without memory
    for mode in ("fp32", "channels_last"):
        on_meta, z = latency.prepare(nn.Conv2d(3, 4, 3), (1, 3, 5, 6), meta, mode)
        assert z.device == on_meta.weight.device == meta, mode
    with pytest.raises(ValueError) as error:
        latency.prepare(model, (1, 3, 5, 6), torch.device("cpu"), "int8")
    message = "unknown latency mode 'int8'; known modes: fp32, tf32, channels_last, bf16, fp16"
    assert str(error.value) == message


def test_autocast_silently_off_or_of_another_dtype_is_a_reason() -> None:
    cpu = torch.device("cpu")
    off = f"bf16 autocast is not supported on cpu by torch {torch.__version__}"
    assert latency._autocast_inactive("fp32", cpu) == ""
    assert latency._autocast_inactive("bf16", cpu) == off
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert latency._autocast_inactive("bf16", cpu) == ""
        assert latency._autocast_inactive("fp16", cpu).startswith("fp16 autocast is not")


class _Raises(nn.Module):
    def __init__(self, error: Exception | None) -> None:
        super().__init__()
        self.error, self.calls = error, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return x


def test_the_reason_a_mode_is_unsupported_is_the_errors_first_line() -> None:
    x = torch.zeros(1)
    reason = latency._unsupported_reason
    assert reason(_Raises(None), x, "fp32") == ""
    assert reason(_Raises(RuntimeError("")), x, "fp32") == "RuntimeError: "
    assert reason(_Raises(RuntimeError("  \n")), x, "fp32") == "RuntimeError: "
    assert reason(_Raises(TypeError("  bad dtype\nmore")), x, "fp32") == "TypeError: bad dtype"
    long = NotImplementedError("y" * 300)
    assert reason(_Raises(long), x, "fp32") == "NotImplementedError: " + "y" * 200
    with pytest.raises(ValueError):  # not a refusal of the mode: a bug, raised
        reason(_Raises(ValueError("bug")), x, "fp32")
    tf32 = _Raises(None)
    assert reason(tf32, x, "tf32").startswith("tf32 is a CUDA mode") and tf32.calls == 0
    off = _Raises(None)
    assert reason(off, x, "bf16").startswith("bf16 autocast is not") and off.calls == 0


class _Calls(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return x


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch) -> list:
    """NVML on a fake GPU: snapshots numbered in order; counters that advance by known steps
    (1.5 s, 0.3 s of power violation, 0.1 s thermal, 600 mJ per read)."""
    log: list = []
    reads = itertools.count()

    def state(device):
        log.append(("state", device))
        return GpuState(sm_clock_mhz=len(log))

    def counters(device):
        n = next(reads)
        log.append(("counters", device))
        ns = {"power": n * 300_000_000, "thermal": n * 100_000_000}
        return GpuCounters(time_s=1.5 * n, violation_ns=ns, energy_mj=600 * n)

    loads = itertools.count(1)

    def load():  # the machine's load: n, and 5 of every 100 CPU ticks stolen
        n = next(loads)
        log.append(("load", n))
        return {"load_1m": float(n), "cores": 2, "ticks_total": 100 * n, "ticks_steal": 5 * n}

    monkeypatch.setattr(latency, "gpu_state", state)
    monkeypatch.setattr(latency, "read_counters", counters)
    monkeypatch.setattr(latency, "machine_load", load)
    return log


def _job(model: nn.Module, device: torch.device = CPU) -> latency._Job:
    result = LatencyResult("n", "fp32", str(device), (4, 4), 1)
    return latency._Job(model, torch.zeros(1, 3, 4, 4), result)


def test_a_timing_window_is_bracketed_by_the_counters_and_snapshots_only_first_and_last(
    fake_cuda, fake_nvml
) -> None:
    job = _job(_Calls(), CUDA1)
    latency._time_round(job, CUDA1, TimingConfig(0, 2), first=True, last=False)
    assert fake_nvml == [
        ("state", CUDA1), ("load", 1), ("counters", CUDA1), ("counters", CUDA1), ("load", 2),
    ]  # fmt: skip
    result = job.result
    assert (result.gpu_before.sm_clock_mhz, result.gpu_after) == (1, GpuState())
    assert result.samples == [1.5, 1.5] and job.model.calls == 2
    latency._time_round(job, CUDA1, TimingConfig(0, 3), first=False, last=True)
    assert fake_nvml[5:] == [
        ("load", 3), ("counters", CUDA1), ("counters", CUDA1), ("load", 4), ("state", CUDA1),
    ]  # fmt: skip
    assert (result.gpu_before.sm_clock_mhz, result.gpu_after.sm_clock_mhz) == (1, 10)
    assert result.samples == [1.5] * 5 and result.flags["tf32_conv"] is False
    window = result.window  # two windows of 1.5 s each; the gap between them is not counted
    assert (window.duration_s, window.windows, window.inferences) == (3.0, 2, 5)
    assert window.violation_s == pytest.approx({"power": 0.6, "thermal": 0.2})
    assert window.energy_mj == 1200
    row = result.as_row()
    assert row["throttled_pct"] == pytest.approx(20.0) and row["throttled"] is True
    assert row["energy_per_inference_mj"] == 240.0 and row["timed_s"] == 3.0
    # the load before the first block, after the last; steal over both blocks only
    assert (row["load_1m_before"], row["load_1m_after"], row["steal_pct"]) == (1.0, 4.0, 5.0)


def test_a_cpu_window_reads_the_clock_counters_and_the_load_but_no_gpu_snapshot(
    fake_nvml,
) -> None:
    job = _job(_Calls())
    latency._time_round(job, torch.device("cpu"), TimingConfig(0, 2), first=True, last=True)
    assert [what for what, _ in fake_nvml] == ["load", "counters", "counters", "load"]
    result = job.result
    assert result.gpu_before == result.gpu_after == GpuState() and len(result.samples) == 2


def test_load_columns_of_rows_timed_in_rounds(monkeypatch) -> None:
    """benchmark_models: every row carries the load around its own blocks (fake readings)."""
    from tests.tiny_models import register_tiny

    readings = iter(
        [{"load_1m": v, "cores": 2, "ticks_total": 10 * v, "ticks_steal": v} for v in range(8)]
    )
    monkeypatch.setattr(latency, "machine_load", lambda: next(readings))
    name = register_tiny("tiny-latency-load", (16, 16))
    df = benchmark_models([name], CPU, ("fp32", "channels_last"), TimingConfig(0, 2), rounds=2)
    # blocks in order: fp32 (0, 1), channels_last (2, 3), fp32 (4, 5), channels_last (6, 7)
    assert list(df.load_1m_before) == [0.0, 2.0] and list(df.load_1m_after) == [5.0, 7.0]
    assert list(df.steal_pct) == [10.0, 10.0]


def test_a_row_without_load_readings_has_nan_columns() -> None:
    row = _result(load=LoadWindow()).as_row()
    assert all(math.isnan(row[c]) for c in ("load_1m_before", "load_1m_after", "steal_pct"))


@pytest.mark.filterwarnings("ignore:CUDA is not available")
def test_one_model_on_a_fake_gpu_takes_both_snapshots_and_one_window(
    monkeypatch, fake_cuda, fake_nvml
) -> None:
    model = _Calls()
    monkeypatch.setattr(latency, "prepare", lambda m, shape, d, mode: (m, torch.zeros(shape)))
    result = measure_latency(model, (1, 3, 4, 4), CUDA1, config=TimingConfig(2, 3))
    assert (result.model, result.mode, result.device) == ("_Calls", "fp32", "cuda:1")
    assert result.input_size == (4, 4) and result.stats.iters == 3 and model.calls == 1 + 2 + 3
    assert (result.gpu_before.sm_clock_mhz, result.gpu_after.sm_clock_mhz) == (1, 6)
    assert (result.window.windows, result.window.inferences) == (1, 3)
    assert result.threads == torch.get_num_threads()
    # torch without CUDA turns the autocast off: reported, neither timed nor snapshotted
    named = measure_latency(model, (1, 3, 4, 4), CUDA1, "fp16", TimingConfig(0, 1), "m")
    assert (named.model, named.mode, named.stats.iters) == ("m", "fp16", 0)
    assert named.reason.startswith("fp16 autocast is not supported")
    assert named.gpu_before == GpuState() and named.window.windows == 0
    snapshots_and_one_window = ["state", "load", "counters", "counters", "load", "state"]
    assert [what for what, _ in fake_nvml] == snapshots_and_one_window


def test_rounds_share_the_warm_up_and_the_budget_and_snapshot_first_and_last(monkeypatch) -> None:
    models = {"a": _Calls(), "b": _Calls()}
    seen, steps = [], []

    def fake_jobs(names, device, modes, input_size, built):
        seen.append((tuple(names), device, tuple(modes), input_size))
        return [
            latency._Job(models[n], torch.zeros(1, 3, 4, 4), LatencyResult(n, m, "cpu", (4, 4), 1))
            for n in names
            for m in modes
        ]

    def fake_round(job, device, config, first, last):
        seen.append((job.result.model, job.result.mode, config, first, last))
        job.result.samples.append(1.0)

    monkeypatch.setattr(latency, "_jobs", fake_jobs)
    monkeypatch.setattr(latency, "_time_round", fake_round)
    cpu = torch.device("cpu")
    config = TimingConfig(4, 9, 3.0)
    df = latency.benchmark_models(
        ["a", "b"], cpu, ("fp32", "tf32"), config, (8, 8), lambda *s: steps.append(s), rounds=3
    )
    per_round = TimingConfig(0, 3, 1.0)
    assert seen[0] == (("a", "b"), cpu, ("fp32", "tf32"), (8, 8))
    assert seen[1:] == [
        (n, "fp32", per_round, r == 0, r == 2) for r in range(3) for n in ("a", "b")
    ]  # tf32 on a CPU is refused by the probe: never timed, still reported
    assert steps == [(n, m) for _ in range(3) for n in ("a", "b") for m in ("fp32", "tf32")]
    assert models["a"].calls == models["b"].calls == 1 + 4  # probe, then config.warmup once
    assert list(zip(df.model, df["mode"], df.iters)) == [
        ("a", "fp32", 3), ("a", "tf32", 0), ("b", "fp32", 3), ("b", "tf32", 0),
    ]  # fmt: skip
    assert df.reason[1].startswith("tf32 is a CUDA mode") and df.reason[0] == ""
    assert set(df.device) == {"cpu"}
    latency.benchmark_models(["a"], cpu, config=TimingConfig(1, 2))
    assert seen[-1] == ("a", "fp32", TimingConfig(0, 2), True, True)
    # the probe and warm-up run under the mode's autocast for the device benchmarked
    bf16 = latency.benchmark_models(["b"], cpu, ("bf16",), TimingConfig(1, 2))
    assert (bf16["mode"][0], bf16.reason[0], bf16.iters[0]) == ("bf16", "", 1)


def test_jobs_build_each_model_once_for_all_its_modes(monkeypatch) -> None:
    from tests.tiny_models import register_tiny

    built = []
    real_build = latency.build_at_size
    monkeypatch.setattr(
        latency, "build_at_size", lambda n, s: built.append((n, s)) or real_build(n, s)
    )
    name = register_tiny("tiny-latency-jobs", (32, 32))
    meta = torch.device("meta")  # a device other than the default one, without memory
    jobs = latency._jobs([name], meta, ("fp32", "channels_last"), (16, 24), {})
    assert built == [(name, (16, 24))]
    assert [(j.result.model, j.result.mode, tuple(j.x.shape), j.x.device) for j in jobs] == [
        (name, "fp32", (1, 3, 16, 24), meta),
        (name, "channels_last", (1, 3, 16, 24), meta),
    ]
    assert {p.device for j in jobs for p in j.model.parameters()} == {meta}
    assert not jobs[0].model.training and jobs[0].x.is_contiguous()
    assert jobs[1].x.is_contiguous(memory_format=torch.channels_last)
    default = latency._jobs([name], torch.device("cpu"), ("fp32",), None, {})
    assert tuple(default[0].x.shape) == (1, 3, 32, 32)
    assert not any(j.ran for j in [*jobs, *default])  # built here: each is probed


def test_a_model_built_and_run_already_is_not_rebuilt_nor_probed_on_a_cpu(monkeypatch) -> None:
    from tests.tiny_models import register_tiny

    name = register_tiny("tiny-latency-built", (32, 32))
    model = _Calls()
    model.info = model_info(name)
    monkeypatch.setattr(latency, "build_at_size", lambda *a: pytest.fail("rebuilt a given model"))
    config, built = TimingConfig(1, 2), {name: model}
    df = benchmark_models([name], CPU, ("fp32", "channels_last"), config, built=built)
    assert list(df.iters) == [2, 2]
    # fp32: warm-up and samples only (its traced forward was the probe); channels_last runs on
    # a copy, probed first
    assert model.calls == 1 + 2
    monkeypatch.setattr(latency, "prepare", lambda m, shape, d, mode: (m, torch.zeros(shape)))
    jobs = latency._jobs([name], CUDA1, ("fp32",), None, built)
    assert not jobs[0].ran  # cudnn chooses its algorithms on the probe: a GPU probes anyway


def test_zero_rounds_are_refused_before_any_model_is_built(monkeypatch) -> None:
    monkeypatch.setattr(latency, "_jobs", lambda *args: pytest.fail("built models for 0 rounds"))
    for rounds in (0, -1):
        with pytest.raises(ValueError, match=r"^benchmark_models needs rounds >= 1, got -?\d$"):
            latency.benchmark_models(["a"], torch.device("cpu"), rounds=rounds)
