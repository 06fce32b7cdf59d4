"""How busy the machine is (bench.measure.load): /proc/stat parsing, steal between two readings,
the busy threshold, and the load over a latency row's timed blocks."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from bench.measure import load
from bench.measure.load import LoadWindow, is_busy, machine_load, steal_percent

# user nice system idle iowait irq softirq steal guest guest_nice
STAT = "cpu  100 20 30 800 10 5 5 30 7 0\ncpu0 50 10 15 400 5 2 3 15 0 0\nintr 1 2 3\n"


def test_a_proc_stat_gives_total_and_steal_ticks(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text(STAT)
    reading = machine_load(stat)
    # the first eight fields add up; guest time is already inside user time
    assert (reading["ticks_total"], reading["ticks_steal"]) == (1000, 30)
    assert reading["cores"] == (os.cpu_count() or 1)


@pytest.mark.parametrize("text", [None, "", "cpu  x y z\n"])
def test_a_missing_or_unreadable_proc_stat_gives_no_ticks(tmp_path: Path, text) -> None:
    stat = tmp_path / "stat"
    if text is not None:
        stat.write_text(text)
    reading = machine_load(stat)
    assert reading["ticks_total"] is None and reading["ticks_steal"] is None


def test_a_kernel_without_a_steal_field_steals_nothing(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 20 30 800\n")
    assert machine_load(stat)["ticks_steal"] == 0


def test_no_load_average_is_none(monkeypatch) -> None:
    def unavailable():
        raise OSError("no load average here")

    monkeypatch.setattr(load.os, "getloadavg", unavailable)
    assert machine_load()["load_1m"] is None


def test_steal_is_the_share_of_the_ticks_between_two_readings() -> None:
    before = {"ticks_total": 1000, "ticks_steal": 30}
    after = {"ticks_total": 1400, "ticks_steal": 50}
    assert steal_percent(before, after) == 5.0
    assert steal_percent(before, before) == 0.0  # no tick passed: nothing stolen
    assert steal_percent(before, {"ticks_total": None, "ticks_steal": None}) is None


@pytest.mark.parametrize(
    ("load_1m", "cores", "busy"),
    [(1.0, 2, False), (1.01, 2, True), (0.0, 1, False), (None, 4, False), (3.0, 8, False)],
)
def test_busy_above_half_a_job_per_core(load_1m, cores, busy) -> None:
    assert is_busy(load_1m, cores) is busy


@pytest.mark.parametrize(("others", "busy"), [(0.5, False), (0.51, True), (0.0, False)])
def test_what_other_processes_use_now_decides_over_the_load_average(others, busy) -> None:
    assert is_busy(8.0, 2, others) is busy  # a quarter of the cores; the tests just run ignored


def test_others_cores_are_the_busy_share_of_the_ticks_while_this_process_sleeps(
    tmp_path: Path, monkeypatch
) -> None:
    stat = tmp_path / "stat"
    stat.write_text(STAT)  # 1000 ticks, 810 idle + iowait
    monkeypatch.setattr(load.time, "sleep", lambda s: stat.write_text(STAT.replace("800", "1100")))
    cores = os.cpu_count() or 1  # 300 more ticks, all idle: nothing else ran
    assert load.others_cores(0.1, stat) == 0.0
    stat.write_text(STAT)
    monkeypatch.setattr(
        load.time, "sleep", lambda s: stat.write_text(STAT.replace("100 20", "400 20"))
    )
    assert load.others_cores(0.1, stat) == pytest.approx(cores * 1.0)  # 300 more, all busy
    assert load.others_cores(0.1, tmp_path / "missing") is None


def _reading(load_1m: float, total: int | None, steal: int | None) -> dict:
    return {"load_1m": load_1m, "cores": 2, "ticks_total": total, "ticks_steal": steal}


def test_a_window_keeps_the_first_load_the_last_and_the_steal_of_its_blocks_only() -> None:
    window = LoadWindow()
    window.add(_reading(1.0, 1000, 10), _reading(1.5, 1100, 20))
    window.add(_reading(3.0, 5000, 500), _reading(2.0, 5300, 500))  # other work in between
    assert window.as_columns() == {"load_1m_before": 1.0, "load_1m_after": 2.0, "steal_pct": 2.5}


def test_a_window_missing_readings_has_nan_columns() -> None:
    assert all(math.isnan(v) for v in LoadWindow().as_columns().values())
    window = LoadWindow()
    window.add(_reading(1.0, 1000, 10), _reading(1.0, 1100, 20))
    window.add(_reading(1.0, None, None), _reading(1.0, None, None))
    columns = window.as_columns()
    assert math.isnan(columns["steal_pct"]) and columns["load_1m_after"] == 1.0
