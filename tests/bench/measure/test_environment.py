"""NVML counters, energy and the environment record (bench.measure.environment), with a fake
NVML."""

from __future__ import annotations

import math
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from torch import nn

from bench.measure import environment, latency
from bench.measure.environment import (
    MIN_ENERGY_WINDOW_S,
    GpuCounters,
    WindowTotals,
    environment_record,
    read_counters,
)
from bench.measure.latency import TimingConfig

CPU = torch.device("cpu")


def _make_job(name, mode, model, shape, device) -> latency._Job:
    size, threads = tuple(shape[-2:]), torch.get_num_threads()
    result = latency.LatencyResult(name, mode, str(device), size, threads)
    return latency._Job(*latency.prepare(model, shape, device, mode), result)


class FakeNvml:
    """The pynvml calls we use, answering from fixed cumulative counters."""

    NVML_CLOCK_SM, NVML_CLOCK_MEM = 1, 2

    def __init__(self, violation_ns: dict[int, int], energy_mj: int | None) -> None:
        self.violation_ns = violation_ns
        self.energy_mj = energy_mj

    def nvmlDeviceGetViolationStatus(self, handle, policy):
        if policy not in self.violation_ns:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return SimpleNamespace(referenceTime=0, violationTime=self.violation_ns[policy])

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if self.energy_mj is None:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return self.energy_mj

    def nvmlDeviceGetPersistenceMode(self, handle):
        return 1

    def nvmlDeviceGetApplicationsClock(self, handle, kind):
        return {1: 1755, 2: 2619}[kind]

    def nvmlDeviceGetDefaultApplicationsClock(self, handle, kind):
        return {1: 1980, 2: 2619}[kind]

    def nvmlDeviceGetEnforcedPowerLimit(self, handle):
        return 700_000

    # momentary state, for gpu_state()
    NVML_TEMPERATURE_GPU = 0

    def nvmlDeviceGetClockInfo(self, handle, kind):
        return 1980

    nvmlDeviceGetMaxClockInfo = nvmlDeviceGetClockInfo

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return 41

    def nvmlDeviceGetPowerUsage(self, handle):
        return 123_000

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle):
        return 0x4  # sw_power_cap

    def nvmlSystemGetDriverVersion(self):
        return "580.159.04"


def _read(nvml: FakeNvml, t: float) -> GpuCounters:
    with (
        mock.patch.object(environment, "_open", lambda device: (nvml, "h", "")),
        mock.patch.object(environment.time, "perf_counter", lambda: t),
    ):
        return read_counters(torch.device("cuda", 0))


def _counters(t: float, power_ns: int, thermal_ns: int, energy: int | None) -> GpuCounters:
    return _read(FakeNvml({0: power_ns, 1: thermal_ns}, energy), t)


def test_counters_read_policies_and_energy():
    c = _counters(5.0, 7, 9, 1234)
    assert c.violation_ns == {"power": 7, "thermal": 9} and c.energy_mj == 1234
    assert c.time_s == 5.0 and c.error == ""
    missing = _read(FakeNvml({}, None), 0.0)
    assert "violation status" in missing.error and "total energy" in missing.error


def test_violation_share_is_the_delta_over_the_windows():
    totals = WindowTotals()
    # two windows of 2 s and 1 s; power held the clocks 0.3 s in the first, 0 s in the second
    totals.add(
        _counters(10.0, 1_000_000_000, 0, 100_000), _counters(12.0, 1_300_000_000, 0, 100_600), 40
    )
    totals.add(
        _counters(20.0, 1_300_000_000, 0, 200_000), _counters(21.0, 1_300_000_000, 0, 200_300), 20
    )
    assert totals.duration_s == pytest.approx(3.0) and totals.inferences == 60
    assert totals.violation_pct() == {"power": pytest.approx(10.0), "thermal": 0.0}
    assert totals.throttled_pct() == pytest.approx(10.0)
    energy, why = totals.energy_per_inference_mj()
    assert why == "" and energy == pytest.approx(900 / 60)  # mJ: (600 + 300) over 60 calls


def test_energy_needs_a_second_of_windows():
    totals = WindowTotals()
    totals.add(_counters(0.0, 0, 0, 0), _counters(MIN_ENERGY_WINDOW_S / 2, 0, 0, 50), 10)
    energy, why = totals.energy_per_inference_mj()
    assert math.isnan(energy) and "< 1 s" in why


def test_energy_missing_in_one_window_is_missing_for_the_row():
    totals = WindowTotals()
    totals.add(_counters(0.0, 0, 0, 0), _counters(1.0, 0, 0, 10), 5)
    totals.add(_counters(2.0, 0, 0, None), _counters(3.0, 0, 0, None), 5)
    energy, why = totals.energy_per_inference_mj()
    assert math.isnan(energy) and "total energy" in why


def test_settings_record_persistence_and_application_clocks(fake_gpu):
    settings = environment._gpu_record(fake_gpu, volatile=False)["settings"]
    assert settings["persistence_mode"] is True
    assert settings["application_sm_clock_mhz"] == 1755
    assert settings["default_application_sm_clock_mhz"] == 1980
    assert settings["power_limit_w"] == 700.0


def test_timer_brackets_each_window_with_the_counters(monkeypatch):
    """Fake counters through the real timing path: 3 rounds, each window 0.5 s and 100 mJ."""
    clock = iter(range(100))
    reads = []

    def fake_read(device):
        i = next(clock)
        reads.append(i)
        window = i // 2  # reads come in (before, after) pairs
        end = i % 2
        return GpuCounters(
            time_s=window * 10 + 0.5 * end,
            violation_ns={"power": window * 10**9 + end * 50_000_000},
            energy_mj=window * 1000 + end * 100,
        )

    monkeypatch.setattr(latency, "read_counters", fake_read)
    model = nn.Conv2d(3, 3, 1)
    job = _make_job("m", "fp32", model, (1, 3, 8, 8), CPU)
    with torch.inference_mode():
        for r in range(3):
            latency._time_round(job, CPU, TimingConfig(warmup=0, iters=4), r == 0, r == 2)
    row = job.result.as_row()
    assert len(reads) == 6 and row["iters"] == 12
    assert row["timed_s"] == pytest.approx(1.5)
    assert row["throttled_pct"] == pytest.approx(10.0) and row["throttled"] is True
    assert row["energy_per_inference_mj"] == pytest.approx(300 / 12)


def test_cpu_rows_say_why_there_is_no_energy():
    job = _make_job("m", "fp32", nn.Conv2d(3, 3, 1), (1, 3, 8, 8), CPU)
    latency._run([job], CPU, TimingConfig(warmup=0, iters=3), 1, lambda *step: None)
    row = job.result.as_row()
    assert math.isnan(row["energy_per_inference_mj"]) and "not a CUDA device" in row["energy_note"]
    assert math.isnan(row["throttled_pct"]) and row["throttled"] is False


def test_stable_record_leaves_out_volatile_state_and_keeps_flags():
    stable = environment_record(CPU, volatile=False)
    assert "state_at_start" not in stable["gpu"]
    assert stable["numerics_during_timing"]["strict modes"]["tf32_conv"] is False
    assert stable["numerics_during_timing"]["tf32"]["tf32_conv"] is True
    assert environment_record(CPU, volatile=False) == stable  # nothing momentary in it
    assert "load" not in stable


@pytest.mark.parametrize(
    ("load_1m", "others", "busy"),
    [
        (0.9, None, False),
        (1.1, None, True),
        (None, None, False),
        (1.9, 0.02, False),
        (0.1, 0.8, True),
    ],
)
def test_the_record_says_how_busy_the_machine_is(monkeypatch, load_1m, others, busy) -> None:
    # what other processes use now decides; the lagging load average only without /proc/stat
    reading = {"load_1m": load_1m, "cores": 2, "ticks_total": None, "ticks_steal": None}
    monkeypatch.setattr(environment, "machine_load", lambda: reading)
    monkeypatch.setattr(environment, "others_cores", lambda: others)
    expected = {"load_1m": load_1m, "cores": 2, "others_cores": others, "busy": busy}
    assert environment_record(CPU)["load"] == expected


class _Config:
    def getoption(self, name: str) -> str:
        assert name == "--bench-device"
        return "cpu"


def test_benchmark_machine_info_is_stable_between_runs():
    from bench.conftest import pytest_benchmark_update_machine_info
    from bench.measure.numerics import precision

    def machine_info() -> dict:
        info = {"cpu": {"brand_raw": "x", "hz_actual": [1, 0], "hz_actual_friendly": "1 GHz"}}
        pytest_benchmark_update_machine_info(_Config(), info)
        return info

    first = machine_info()
    with precision("tf32"):
        pass  # a benchmark ran in between
    assert machine_info() == first
    assert "hz_actual" not in first["cpu"] and first["cpu"]["brand_raw"] == "x"
    assert "state_at_start" not in first["gcpm_bench"]["gpu"]


@pytest.fixture
def fake_gpu(monkeypatch):
    """A CUDA device as NVML and torch describe it, on a machine without one."""
    from bench.measure import environment

    props = SimpleNamespace(
        name="NVIDIA H100 80GB HBM3",
        major=9,
        minor=0,
        total_memory=80 * 2**30,
        multi_processor_count=132,
    )
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    nvml = FakeNvml({0: 2_000_000_000, 1: 0}, 9_000)
    monkeypatch.setattr(environment, "_open", lambda device: (nvml, "h", ""))
    return torch.device("cuda", 0)


def test_gpu_record_keeps_settings_and_splits_off_the_momentary_state(fake_gpu):
    from bench.measure.environment import _gpu_record, gpu_state, read_counters

    full = _gpu_record(fake_gpu, volatile=True)
    stable = _gpu_record(fake_gpu, volatile=False)
    assert full["name"] == "NVIDIA H100 80GB HBM3" and full["capability"] == "9.0"
    assert full["settings"]["persistence_mode"] is True and full["driver"] == "580.159.04"
    assert full["state_at_start"]["temperature_c"] == 41
    assert stable == {k: v for k, v in full.items() if k != "state_at_start"}
    state = gpu_state(fake_gpu)
    assert state.throttled and state.power_w == 123.0
    counters = read_counters(fake_gpu)
    assert counters.violation_ns["power"] == 2_000_000_000 and counters.energy_mj == 9_000
