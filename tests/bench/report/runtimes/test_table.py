"""bench.measure.runtimes reporting: table arithmetic, the headline view (runtimes.md) with its
marks,
the full table (runtimes_full.md), notes, the set's file list and index section, plot ticks.

Measurements are fabricated: these tests pin the arithmetic and the rendering, not a runtime.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.measure.runtimes.timing import ALL_MODELS, QUICK, RuntimeMeasurements
from bench.report.publish import publish, verify
from bench.report.runtimes.outputs import OUTPUT_NAMES, runtime_outputs, runtimes_report
from bench.report.runtimes.plots import crowded, pareto
from bench.report.runtimes.realtime import PAPER_FPS, realtime_table
from bench.report.runtimes.table import COLUMNS, GMACS, PEAK, RATE, runtimes_notes, runtimes_table
from bench.report.runtimes.view import (
    CHECK,
    EFFICIENCY,
    LATENCY,
    VS_EAGER,
    runtimes_view,
    view_notes,
)
from tests.tiny_models import register_tiny

ENV = {"device": "cpu", "cpu_model": "Test CPU", "torch": "2.x"}


def _row(model: str, runtime: str, precision: str, threads: int, ms: float, **extra) -> dict:
    row = {
        "model": model,
        "runtime": runtime,
        "precision": precision,
        "threads": threads,
        "device": "cpu",
        "input": "64x64",
        "median_ms": ms,
        "p10_ms": ms,
        "p90_ms": ms,
        "cv": 0.0,
        "samples": 3,
        "prepare_s": 0.0,
        "max_abs_diff": 0.0,
        "rel_diff": 0.0,
        "keypoint_agreement": 1.0,
        "near_ties": 0.0,
        "validation": "ok",
        "reason": "",
    }
    return {**row, **extra}


def _fabricated(*more: dict) -> RuntimeMeasurements:
    rows = [
        _row("ref", "eager", "fp32", 2, 100.0),
        _row("net", "eager", "fp32", 2, 50.0),
        _row("ref", "openvino", "bf16", 2, 20.0),
        _row("net", "openvino", "bf16", 2, 16.0),
        _row("net", "openvino", "bf16", 1, 32.0),
        *more,
    ]
    peaks = pd.DataFrame(
        {
            "device": "cpu",
            "precision": ["fp32", "bf16", "bf16"],
            "threads": [2, 2, 1],
            "peak_gflops_per_s": [100.0, 800.0, 400.0],
        }
    )
    return RuntimeMeasurements(pd.DataFrame(rows), peaks, QUICK, realtime_model="net")


COUNTS = pd.DataFrame({"model": ["ref", "net"], "params_m": [1.0, 1.0], "gmacs": [2.0, 1.0]})
NAN = math.nan
# One of each mark: a noisy row, a long valid row, a failed conversion, a row that could not be
# timed, and a runtime not run at all (its reason row).
MARKED = (
    _row("net", "onnxruntime", "fp32", 2, 40.0, cv=0.3, p10_ms=30.0, p90_ms=55.0),
    _row("ref", "onnxruntime", "fp32", 2, 80.0, samples=100, max_abs_diff=6.7e-8),
    _row("net", "broken", "fp32", 2, 45.0, validation="FAILED: keypoint agreement 0.25 < 0.9"),
    _row("ref", "broken", "fp32", 2, NAN, samples=0, validation="", reason="prepare failed: X"),
    _row(ALL_MODELS, "tensorrt", "fp16", 2, NAN, samples=0, validation="", reason="needs CUDA"),
)


def test_speedups_are_within_one_runtime_precision_and_thread_count():
    t = runtimes_table(_fabricated(), COUNTS, reference="ref").set_index(
        ["model", "runtime", "precision", "threads"]
    )
    assert t.loc[("net", "eager", "fp32", 2), "speedup"] == pytest.approx(2.0)
    assert t.loc[("net", "openvino", "bf16", 2), "speedup"] == pytest.approx(1.25)
    assert math.isnan(t.loc[("net", "openvino", "bf16", 1), "speedup"])  # no 1-thread reference
    assert t.loc[("net", "openvino", "bf16", 2), "vs_eager_fp32"] == pytest.approx(50 / 16)
    row = t.loc[("net", "openvino", "bf16", 1)]
    assert row[RATE] == pytest.approx(2 * 1.0 / 0.032) and row[PEAK] == 400.0
    assert row["efficiency"] == pytest.approx(row[RATE] / 400.0) and row[GMACS] == 1.0
    assert t.loc[("ref", "eager", "fp32", 2), "efficiency"] == pytest.approx(2 * 2 / 0.1 / 100)


def test_cpu_realtime_puts_the_papers_figure_last_and_labelled():
    t = runtimes_table(_fabricated(), COUNTS, reference="ref")
    rt = realtime_table(t, "net", "Test CPU")
    assert list(rt.threads) == [1, 2, 2, 6] and rt.fps.iloc[0] == pytest.approx(1000 / 32)
    assert rt.source.iloc[-1].startswith("paper") and rt.fps.iloc[-1] == PAPER_FPS
    assert set(rt.source.iloc[:-1]) == {"ours (Test CPU)"}


def test_notes_name_the_best_runtime_and_how_the_ranking_moves():
    m = _fabricated()
    m.frame.loc[(m.frame.runtime == "openvino") & (m.frame.model == "ref"), "median_ms"] = 10.0
    t = runtimes_table(m, COUNTS, reference="ref")
    notes = runtimes_notes(t, m, ENV, "ref")
    assert "- ref: openvino bf16 10.0 ms (10.0x eager fp32)" in notes
    assert "- eager fp32: net < ref" in notes
    assert "- openvino bf16: ref < net (order differs from eager fp32)" in notes


def test_view_groups_rows_by_model_with_the_extra_thread_rows_last():
    view = runtimes_view(runtimes_table(_fabricated(), COUNTS, "ref"), "ref")
    assert list(view.columns) == [
        "model",
        "runtime",
        "threads",
        LATENCY,
        VS_EAGER,
        "× ref",
        CHECK,
        EFFICIENCY,
    ]
    assert list(zip(view.model, view.runtime, view.threads)) == [
        ("ref", "eager fp32", "2"),
        ("ref", "openvino bf16", "2"),
        ("net", "eager fp32", "2"),
        ("net", "openvino bf16", "2"),
        ("net", "openvino bf16", "1"),
    ]
    net = view.iloc[3]
    assert (net[VS_EAGER], net["× ref"], net[EFFICIENCY]) == ("3.12", "1.25", "15.6")
    assert view.iloc[4]["× ref"] == "–"  # the reference has no 1-thread row


def test_view_marks_noisy_short_failed_and_untimed_rows_and_says_why_under_it():
    t = runtimes_table(_fabricated(*MARKED), COUNTS, "ref")
    view = runtimes_view(t, "ref").set_index(["model", "runtime"])
    assert ALL_MODELS not in set(view.index.get_level_values("model"))
    assert view.loc[("net", "onnxruntime fp32"), LATENCY] == "40.0 (30.0–55.0)*†"
    assert view.loc[("ref", "onnxruntime fp32"), LATENCY] == "80.0 (80.0–80.0)"  # 100 x 80 ms
    assert view.loc[("net", "broken fp32"), CHECK] == "FAILED"
    untimed = view.loc[("ref", "broken fp32")]
    assert (untimed[LATENCY], untimed[CHECK], untimed[EFFICIENCY]) == ("–", "", "–")
    notes = view_notes(t, "ref")
    assert "`*` CV above 20 %: net onnxruntime fp32 (2 threads, cpu) 30 %." in notes
    assert "7 of 8 timed rows" in notes  # every 3-sample row, not the 100-sample one
    assert "- net broken fp32 (2 threads, cpu): keypoint agreement 0.25 < 0.9" in notes
    assert "- ref broken fp32 (2 threads, cpu): prepare failed: X" in notes
    assert "Runtimes not run at all:\n- tensorrt fp16: needs CUDA" in notes


def test_a_clean_run_has_no_mark_footnotes():
    m = _fabricated()
    m.frame["samples"] = 64
    notes = view_notes(runtimes_table(m, COUNTS, "ref"), "ref")
    assert notes.startswith("Columns: ") and "\n\n" not in notes


def test_view_reads_the_csv_back_as_written(tmp_path):
    t = runtimes_table(_fabricated(*MARKED), COUNTS, "ref")
    t.to_csv(tmp_path / "runtimes.csv", index=False)
    again = pd.read_csv(tmp_path / "runtimes.csv")
    pd.testing.assert_frame_equal(runtimes_view(again, "ref"), runtimes_view(t, "ref"))


def test_outputs_write_a_compact_and_a_full_table_as_one_set(tmp_path):
    for name in ("ref", "net"):
        register_tiny(name)  # the Pareto figure asks the registry for each model's paper rows
    m = _fabricated(*MARKED)
    writers = runtime_outputs(m, COUNTS, ENV, "ref")
    assert set(writers) == set(OUTPUT_NAMES) and "runtimes_full.md" in OUTPUT_NAMES
    publish(tmp_path, writers, owned=OUTPUT_NAMES, producer="test")
    assert verify(tmp_path, OUTPUT_NAMES) == []
    compact = (tmp_path / "runtimes.md").read_text(encoding="utf-8").splitlines()
    full = (tmp_path / "runtimes_full.md").read_text(encoding="utf-8").splitlines()
    assert compact[2].count("|") == 9 and full[2].count("|") == len(COLUMNS) + 1
    assert full[0] == compact[0] + " (every column)"
    assert sum(line.startswith(f"| {ALL_MODELS}") for line in full) == 1
    assert not any(line.startswith(f"| {ALL_MODELS}") for line in compact)
    assert any("| 6.7e-08 " in line for line in full)  # not rounded to 0.000 with the rest
    section = runtimes_report(m, COUNTS, ENV, "ref").section()
    assert section.stem == "runtimes" and list(section.table.columns)[3] == LATENCY


def _spread(low_ms: float, high_ms: float) -> pd.DataFrame:
    """Eight models' eager fp32 rows with medians spread evenly in log from low to high."""
    ms = [low_ms * (high_ms / low_ms) ** (i / 7) for i in range(8)]
    return pd.DataFrame([_row(f"m{i}", "eager", "fp32", 2, v) for i, v in enumerate(ms)])


def _shown_ticks(axis) -> list[str]:
    low, high = axis.get_view_interval()
    return [
        label.get_text()
        for tick, label in zip(axis.get_majorticklocs(), axis.get_ticklabels())
        if low <= tick <= high and label.get_text()
    ]


@pytest.mark.parametrize(("low", "high"), [(0.05, 600.0), (0.3, 3000.0), (1.0, 50000.0)])
def test_pareto_latency_ticks_thin_to_decades_instead_of_crowding(low, high):
    fig = pareto(_spread(low, high), "cpu", lambda model, table: 85.0)
    for panel in fig.axes:
        assert panel.get_xscale() == "log" and not crowded(panel.xaxis)
        assert set(_shown_ticks(panel.xaxis)) <= {f"{10.0**k:g}" for k in range(-3, 7)}


def test_pareto_keeps_its_1_2_5_ticks_where_they_fit():
    fig = pareto(_spread(8.0, 600.0), "cpu", lambda model, table: 85.0)  # the committed CPU run
    assert {"20", "50", "200"} <= set(_shown_ticks(fig.axes[0].xaxis))


def test_a_run_where_no_runtime_could_run_says_so(tmp_path):
    reasons = [
        _row(ALL_MODELS, "tensorrt", p, 2, NAN, samples=0, validation="", reason="needs CUDA")
        for p in ("fp32", "fp16")
    ]
    no_peaks = pd.DataFrame(columns=["device", "precision", "threads", "peak_gflops_per_s"])
    m = RuntimeMeasurements(pd.DataFrame(reasons), no_peaks, QUICK, realtime_model="net")
    writers = runtime_outputs(m, COUNTS, ENV, "ref")
    writers["runtimes.md"](tmp_path / "runtimes.md")
    text = (tmp_path / "runtimes.md").read_text(encoding="utf-8")
    assert "(no runtime was timed in this run)" in text
    assert "Runtimes not run at all:\n- tensorrt fp32, tensorrt fp16: needs CUDA" in text
