"""bench.report.runtimes.table: speed-ups, efficiency and the notes of the full table, with the
pass rule's notes and what the int8 rows ran."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.measure.runtimes.scoring import PCKH_TOLERANCE
from bench.report.runtimes.table import (
    GMACS,
    PEAK,
    RATE,
    efficiency,
    int8_notes,
    is_scored,
    runtimes_notes,
    runtimes_table,
    scoring_notes,
)
from tests.bench.report.runtimes.fabricated import COUNTS, ENV, fabricated, row


def test_speedups_are_within_one_runtime_precision_and_thread_count():
    t = runtimes_table(fabricated(), COUNTS, reference="ref").set_index(
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


def test_notes_name_the_best_runtime_and_how_the_ranking_moves():
    m = fabricated()
    m.frame.loc[(m.frame.runtime == "openvino") & (m.frame.model == "ref"), "median_ms"] = 10.0
    t = runtimes_table(m, COUNTS, reference="ref")
    notes = runtimes_notes(t, m, ENV, "ref")
    assert "- ref: openvino bf16 10.0 ms (10.0x eager fp32)" in notes
    assert "- eager fp32: net < ref" in notes
    assert "- openvino bf16: ref < net (order differs from eager fp32)" in notes


def test_the_best_row_of_a_scored_model_is_judged_on_its_score_not_the_random_input():
    m = fabricated()
    frame = m.frame.assign(accuracy="pass")
    frame.loc[frame.runtime == "openvino", "validation"] = "FAILED: max diff"  # scored: passes
    m.frame = frame
    notes = runtimes_notes(runtimes_table(m, COUNTS, reference="ref"), m, ENV, "ref")
    assert "- net: openvino bf16 16.0 ms" in notes


def test_efficiency_counts_two_flops_per_multiply_add():
    rate, share = efficiency(gmacs=10.0, median_ms=100.0, peak_gflops_per_s=400.0)
    assert rate == pytest.approx(200.0) and share == pytest.approx(0.5)


def test_a_busy_machine_is_said_in_the_notes():
    m = fabricated()
    t = runtimes_table(m, COUNTS, "ref")
    busy = {**ENV, "load": {"load_1m": 6.51953125, "cores": 2, "busy": True}}
    assert "**Busy machine:** load 6.5 on 2 cores" in runtimes_notes(t, m, busy, "ref")
    assert "Busy machine" not in runtimes_notes(t, m, ENV, "ref")
    busy["load"] |= {"others_cores": 1.234}  # what other processes used, where it was measured
    expected = "**Busy machine:** other processes kept 1.2 of 2 cores busy (load average 6.5)"
    assert expected in runtimes_notes(t, m, busy, "ref")


def _frame(**scores) -> pd.DataFrame:
    return pd.DataFrame(
        [
            row("a", "eager", "fp32", 2, 5.0, notes="", **scores),
            row("a", "openvino", "int8", 2, 2.0, notes="openvino ran 3 of 4 in int8", **scores),
            row("a", "openvino", "int8", 1, 4.0, notes="openvino ran 3 of 4 in int8", **scores),
        ]
    )


def test_without_scores_the_notes_say_only_the_random_input_check_ran():
    df = _frame()
    assert not is_scored(df)
    assert scoring_notes(df).startswith("Accuracy: not scored in this run")


def test_scored_notes_state_every_tolerance_and_count_failed_rows():
    df = _frame(pckh=80.0, scored_on="lip val, 4 persons", accuracy="pass")
    df.loc[1, "accuracy"] = "FAILED: PCKh 60.00 < eager fp32 80.00 - 1"
    notes = scoring_notes(df)
    assert is_scored(df) and "(lip val, 4 persons;" in notes
    for precision, tolerance in PCKH_TOLERANCE.items():
        assert f"{precision} {tolerance:g} (" in notes
    assert "marked FAILED (1 in this run)" in notes


def test_each_int8_row_says_what_it_ran_once_per_model_and_runtime():
    assert int8_notes(_frame()) == ["a openvino int8: openvino ran 3 of 4 in int8"]


def test_models_the_preset_left_out_of_the_runtimes_are_named_with_how_to_time_them():
    m = fabricated()
    assert "Not timed in these runtimes" not in runtimes_notes(
        runtimes_table(m, COUNTS, "ref"), m, ENV, "ref"
    )
    m.left_out_models = ("big", "bigger")
    notes = runtimes_notes(runtimes_table(m, COUNTS, "ref"), m, ENV, "ref", full=False)
    assert "Not timed in these runtimes: big, bigger." in notes and "(--runtimes)" in notes
