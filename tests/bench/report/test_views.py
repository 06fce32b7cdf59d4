"""Headline views: one number format per column, applied once, marks for noisy and short rows."""

from __future__ import annotations

import re

import pandas as pd

from bench.report import views as headline


def test_one_number_format_per_column():
    full = pd.DataFrame(
        {
            "method (paper row)": ["a", "b", "c"],
            "model": ["a", "b", "c"],
            "input": ["x"] * 3,
            "latency median (ms)": [0.5, 12.3456, 250.0],
            "p10 (ms)": [0.4, 12.0, 240.0],
            "p90 (ms)": [0.6, 13.0, 260.0],
            "CV (%)": [1.0, 1.0, 1.0],
            "throttled": [False] * 3,
            "speed-up vs a": [1.0, 0.0405, 0.002],
            "speed-up (paper)": [1.0, 2.5, float("nan")],
            "params (M)": [1.0, 10.0, 100.0],
            "GFLOPs (1 MAC = 1 FLOP)": [0.1, 1.0, 88.42],
            "PCKh (paper)": [90.9, float("nan"), 87.9],
            "AUC (paper)": [62.9, float("nan"), None],
        }
    )
    view = headline.paper_table_view(full, "a", ["AUC", "PCKh"], 20.0)
    for column in view.columns[3:]:
        places = {
            len(n.split(".")[1]) if "." in n else 0
            for cell in view[column]
            for n in re.findall(r"\d+(?:\.\d+)?", cell)
        }
        assert len(places) <= 1, (column, list(view[column]))
    assert list(view["latency, ms: median (p10–p90)"]) == [
        "0.500 (0.400–0.600)",
        "12.346 (12.000–13.000)",
        "250.000 (240.000–260.000)",
    ]
    assert list(view["AUC / PCKh (paper)"]) == ["62.9 / 90.9", "", "– / 87.9"]
    assert view["speed-up (paper)"].iloc[2] == ""


def test_formatted_views_keep_their_columns_and_mark_missing_values():
    df = pd.DataFrame({"a": ["x", "y"], "b": [1.23456, None], "c": [3.0, -0.04]})
    view = headline.formatted(
        df, {"A": ("a", ""), "B": ("b", ".2f"), "C": ("c", "+.1f"), "gone": ("not there", ".1f")}
    )
    assert view.to_dict("list") == {
        "A": ["x", "y"],
        "B": ["1.23", headline.MISSING],
        "C": ["+3.0", "-0.0"],
    }


def test_full_tables_use_one_format_per_column():
    df = pd.DataFrame(
        {
            "time (ms, paper)": [60.0, 6.0, float("nan")],
            "iters": [17, 21, 3],
            "model": ["a", "b", "c"],
        }
    )
    shown = headline.uniform(df)
    assert list(shown["time (ms, paper)"]) == ["60.00", "6.00", headline.MISSING]
    assert list(shown["iters"]) == [17, 21, 3] and list(shown["model"]) == ["a", "b", "c"]
    assert list(headline.uniform(df, places=1)["time (ms, paper)"])[:2] == ["60.0", "6.0"]


def test_latency_view_marks_noisy_and_invalid_timings_and_says_why():
    latency = pd.DataFrame(
        {
            "model": ["a", "b", "c"],
            "mode": ["fp32", "fp32", "bf16"],
            "input": ["8x8"] * 3,
            "median_ms": [10.0, 20.0, float("nan")],
            "p10_ms": [9.0, 18.0, float("nan")],
            "p90_ms": [11.0, 30.0, float("nan")],
            "cv": [0.05, 0.25, float("nan")],
            "iters": [100, 3, 0],
            "throttled": [False, False, False],
            "valid": [True, False, False],
            "validity": ["ok", "3 samples < 64", "no samples"],
            "reason": [None, None, "bf16 autocast is not supported"],
        }
    )
    view = headline.latency_view(latency, 0.2).set_index("model")
    cells = view["latency, ms: median (p10–p90)"]
    assert cells["a"] == "10.0 (9.0–11.0)"
    assert cells["b"] == f"20.0 (18.0–30.0){headline.NOISY_MARK}{headline.SHORT_MARK}"
    assert list(view["note"]) == ["", "3 samples < 64", "bf16 autocast is not supported"]


def test_as_text_takes_a_spec_per_column_and_rounds_the_raw_value():
    df = pd.DataFrame({"params (M)": [40.5996, 3.0], "n": [1, 2], "name": ["a", "b"]})
    shown = headline.as_text(df, {"params (M)": ".2f"})
    assert list(shown["params (M)"]) == ["40.60", "3.00"]
    assert list(shown["n"]) == [1, 2] and list(shown["name"]) == ["a", "b"]


def test_a_column_of_tiny_values_keeps_three_significant_digits():
    shown = headline.as_text(pd.DataFrame({"diff": [6.7e-08, 0.5]}))
    assert list(shown["diff"]) == ["6.7e-08", "0.5"]
