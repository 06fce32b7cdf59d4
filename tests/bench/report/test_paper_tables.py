"""Rendering of the result tables: structured paper rows, headline views, a user's own model."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from architectures import ModelInfo, PaperFigures, list_models, model_info
from bench import tables
from bench.report import views as headline
from tests.tiny_models import TinyPose, register_test_model

USER = "my-test-net"


def test_paper_rows_are_fields_rendered_into_prose():
    nie = model_info("hourglass-8stack").paper_row(4)
    assert (nie.table, nie.row, nie.split) == (4, "Nie et al., CVPR'18", "LIP test")
    assert nie.source.startswith("GCPM Table 4 (LIP test), row 'Nie et al., CVPR'18': this")
    for name in list_models(module="architectures"):
        for row in model_info(name).paper_rows:
            assert isinstance(row.table, int) and row.row and f"row '{row.row}'" in row.source


def test_rows_are_found_by_field_not_by_text():
    # The old lookup searched the prose for "Table 5": a note naming another table fooled it.
    row = PaperFigures(4, "Ours", "LIP test", note="faster than Table 5's CPM")
    info = ModelInfo(
        name="x",
        family="t",
        dataset="lip",
        input_size=(8, 8),
        output_stride=1,
        num_heatmaps=1,
        paper=row,
    )
    assert info.paper_row(4) is row and info.paper_row(5) is None
    assert row.source == "GCPM Table 4 (LIP test), row 'Ours': faster than Table 5's CPM"
    assert PaperFigures(3, "ASPP").source == "GCPM Table 3, row 'ASPP'"


@pytest.fixture
def user_model():
    return register_test_model(USER, TinyPose, family="mine")  # LIP, 64x64, stride 8, 17 maps


def _measurements(rows: dict[str, tuple[float, float]], accuracy=None) -> tables.Measurements:
    latency = pd.DataFrame(
        [
            {
                "model": n,
                "mode": "fp32",
                "input": "64x64",
                "median_ms": ms,
                "p10_ms": 0.9 * ms,
                "p90_ms": 1.2 * ms,
                "cv": cv,
                "iters": 5,
                "throttled": False,
            }
            for n, (ms, cv) in rows.items()
        ]
    )
    counts = pd.DataFrame(
        {"model": list(rows), "params_m": [1.0] * len(rows), "gmacs": [2.0] * len(rows)}
    )
    return tables.Measurements(
        {}, latency, counts, pd.DataFrame(), pd.DataFrame(), accuracy=accuracy
    )


def test_user_model_joins_the_table_of_its_dataset(user_model):
    ref = "hourglass-8stack"
    accuracy = pd.DataFrame(
        {"model": [USER], "PCKh (ours, val)": [61.25], "Hip (ours, val)": [40.0]}
    )
    m = _measurements({ref: (100.0, 0.01), USER: (20.0, 0.3)}, accuracy)
    t4 = tables.paper_table(4, m, [ref, USER], ref).set_index("model")
    assert t4.loc[USER, "method (paper row)"] == tables.USER_ROW
    assert t4.loc[USER, f"speed-up vs {ref}"] == 5.0
    paper = ["PCKh (paper)", "Hip (paper)", "speed-up (paper)", "time (ms, paper)"]
    assert t4.loc[USER, paper].isna().all() and t4.loc[ref, paper].notna().all()
    assert USER not in set(tables.paper_table(5, m, [ref, USER], ref).model)  # LIP, not MPII

    view = headline.paper_table_view(t4.reset_index(), ref, ["PCKh", "Hip"], 20.0)
    user = view.set_index("model").loc[USER]
    assert user["method"] == tables.USER_ROW
    assert user["speed-up (paper)"] == "" and user["PCKh / Hip (paper)"] == ""
    assert user["PCKh / Hip (ours, val)"] == "61.2 / 40.0"  # measured, with its checkpoint
    assert user["latency, ms: median (p10–p90)"].endswith(headline.NOISY_MARK)  # CV 30 %
    assert len(view.columns) <= 10


def test_default_models_include_a_users_model_and_not_suite_variants(user_model):
    defaults = tables.default_models()
    assert USER in defaults and "gcpm-ushaped" in defaults
    assert "hourglass-2stack" not in defaults  # a suite model without a Table 4/5 row
    assert tables.method_label("hourglass-2stack", 5) == tables.SUITE_ROW


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


def test_layer_notes_give_coverage_and_uncounted_flops():
    layers = pd.DataFrame(
        {
            "model": ["a", "a", "b", "b"],
            "layer_type": ["1x1 conv", "pooling", "pooling", "other"],
            "coverage_pct": [91.2, 91.2, 80.0, 80.0],
            "flops_counted": ["yes", "no", "no", "partly"],
        }
    )
    notes = tables._layer_notes(layers)
    assert "a 91 %, b 80 %" in notes
    assert "pooling no (every model); other partly (b)" in notes and "1x1" not in notes
