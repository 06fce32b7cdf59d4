"""bench.report.runtimes.view: the headline view (runtimes.md), its marks and notes."""

from __future__ import annotations

import pandas as pd

from bench.measure.runtimes.timing import ALL_MODELS
from bench.report.runtimes.table import runtimes_table
from bench.report.runtimes.view import (
    CHECK,
    DELTA,
    EFFICIENCY,
    LATENCY,
    PCKH,
    VERDICT,
    VS_EAGER,
    runtimes_view,
    view_notes,
)
from tests.bench.report.runtimes.fabricated import COUNTS, MARKED, fabricated


def test_view_groups_rows_by_model_with_the_extra_thread_rows_last():
    view = runtimes_view(runtimes_table(fabricated(), COUNTS, "ref"), "ref")
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
    t = runtimes_table(fabricated(*MARKED), COUNTS, "ref")
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
    m = fabricated()
    m.frame["samples"] = 64
    notes = view_notes(runtimes_table(m, COUNTS, "ref"), "ref")
    assert notes.startswith("Columns: ") and "\n\n" not in notes


def test_view_reads_the_csv_back_as_written(tmp_path):
    t = runtimes_table(fabricated(*MARKED), COUNTS, "ref")
    t.to_csv(tmp_path / "runtimes.csv", index=False)
    again = pd.read_csv(tmp_path / "runtimes.csv")
    pd.testing.assert_frame_equal(runtimes_view(again, "ref"), runtimes_view(t, "ref"))


def test_scored_rows_show_pckh_its_difference_and_the_verdict():
    m = fabricated()
    frame = m.frame
    frame["pckh"] = [80.0, 70.0, 79.5, 60.0, 60.0]
    frame["delta_pckh"] = [0.0, 0.0, -0.5, -10.0, -10.0]
    frame["accuracy"] = ["pass", "pass", "pass"] + [
        "FAILED: PCKh 60.00 < eager fp32 70.00 - 0.5"
    ] * 2
    t = runtimes_table(m, COUNTS, "ref")
    view = runtimes_view(t, "ref").set_index(["model", "runtime", "threads"])
    assert list(view.columns)[-3:] == [PCKH, DELTA, VERDICT]
    assert tuple(view.loc[("ref", "openvino bf16", "2"), [PCKH, DELTA, VERDICT]]) == (
        "79.5",
        "-0.50",
        "pass",
    )
    assert view.loc[("net", "openvino bf16", "2"), VERDICT] == "FAILED"
    notes = view_notes(t, "ref")
    assert "- net openvino bf16 (2 threads, cpu): PCKh 60.00 < eager fp32 70.00 - 0.5" in notes


def test_an_unscored_view_has_no_accuracy_columns():
    view = runtimes_view(runtimes_table(fabricated(), COUNTS, "ref"), "ref")
    assert PCKH not in view.columns and CHECK in view.columns


def test_without_the_reference_in_any_runtime_its_column_and_note_are_left_out():
    m = fabricated()
    m.frame = m.frame[m.frame.model != "ref"]
    t = runtimes_table(m, COUNTS, "ref")
    assert "× ref" not in runtimes_view(t, "ref").columns
    assert "× ref" not in view_notes(t, "ref")
