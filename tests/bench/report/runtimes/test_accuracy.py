"""bench.report.runtimes.accuracy: the pass rule's notes and what the int8 rows ran."""

from __future__ import annotations

import pandas as pd

from bench.measure.runtimes.scoring import PCKH_TOLERANCE
from bench.report.runtimes.accuracy import int8_notes, is_scored, scoring_notes
from tests.bench.report.runtimes.fabricated import row


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
