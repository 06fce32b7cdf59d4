"""GCPM Tables 4 and 5 rebuilt from measurements: paper rows as fields, the speed-up of a row
measured in the same run, a user's model in the table of its dataset, the "Ours" rows labelled as
the suite's reconstruction, params and GFLOPs from the raw counts."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from architectures import ModelInfo, PaperFigures, list_models, model_info
from bench.measure.suite import Measurements
from bench.report import paper_tables, views
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


def _measurements(rows: dict[str, tuple[float, float]], accuracy=None) -> Measurements:
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
    return Measurements({}, latency, counts, pd.DataFrame(), pd.DataFrame(), accuracy=accuracy)


def test_user_model_joins_the_table_of_its_dataset(user_model):
    ref = "hourglass-8stack"
    accuracy = pd.DataFrame(
        {"model": [USER], "PCKh (ours, val)": [61.25], "Hip (ours, val)": [40.0]}
    )
    m = _measurements({ref: (100.0, 0.01), USER: (20.0, 0.3)}, accuracy)
    t4 = paper_tables.paper_table(4, m, [ref, USER], ref).set_index("model")
    assert t4.loc[USER, "method (paper row)"] == paper_tables.USER_ROW
    assert t4.loc[USER, f"speed-up vs {ref}"] == 5.0
    paper = ["PCKh (paper)", "Hip (paper)", "speed-up (paper)", "time (ms, paper)"]
    assert t4.loc[USER, paper].isna().all() and t4.loc[ref, paper].notna().all()
    assert USER not in set(paper_tables.paper_table(5, m, [ref, USER], ref).model)  # LIP, not MPII

    view = views.paper_table_view(t4.reset_index(), ref, ["PCKh", "Hip"], 20.0)
    user = view.set_index("model").loc[USER]
    assert user["method"] == paper_tables.USER_ROW
    assert user["speed-up (paper)"] == "" and user["PCKh / Hip (paper)"] == ""
    assert user["PCKh / Hip (ours, val)"] == "61.2 / 40.0"  # measured, with its checkpoint
    assert user["latency, ms: median (p10–p90)"].endswith(views.NOISY_MARK)  # CV 30 %
    assert len(view.columns) <= 10


def test_default_models_include_a_users_model_and_not_suite_variants(user_model):
    defaults = paper_tables.default_models()
    assert USER in defaults and "gcpm-ushaped" in defaults
    assert "hourglass-2stack" not in defaults  # a suite model without a Table 4/5 row
    assert paper_tables.method_label("hourglass-2stack", 5) == paper_tables.SUITE_ROW


class Tiny(nn.Module):
    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x[:, :1]]


@pytest.fixture
def tiny_pair():
    facts = {"input_size": (32, 32), "output_stride": 1, "num_heatmaps": 1}
    ref = register_test_model(
        "tiny-ref",
        Tiny,
        dataset="mpii",
        **facts,
        paper=PaperFigures(5, "Ref", "MPII test", time_ms=8.0),
    )
    row = register_test_model("tiny-row", Tiny, **facts, paper=PaperFigures(
        4, "Tiny", "LIP test", time_ms=2.0), extra_paper_rows=(
        PaperFigures(5, "Tiny", "MPII test", auc=10.0, pckh=60.0, time_ms=4.0),))  # fmt: skip
    return ref, row


def test_speed_up_is_reference_over_row_in_the_same_run(tiny_pair):
    ref, row = tiny_pair
    m = _measurements({ref: (100.0, 0.01), row: (25.0, 0.01)})
    m.counts["gmacs"] = [3.0, 2.0]
    t5 = paper_tables.paper_table(5, m, [ref, row], ref).set_index("model")
    assert t5.loc[row, f"speed-up vs {ref}"] == 4.0
    assert t5.loc[row, "speed-up (paper)"] == 2.0  # 8 ms / 4 ms
    assert t5.loc[row, "GFLOPs (1 MAC = 1 FLOP)"] == 2.0 and t5.loc[row, "PCKh (paper)"] == 60.0
    t4 = paper_tables.paper_table(4, m, [ref, row], ref)
    assert list(t4.model) == [row]  # the reference has no Table 4 row
    assert t4["speed-up (paper)"].isna().all()  # nor a Table 4 time to compare with


def test_ours_rows_say_the_model_is_the_suites_reconstruction():
    label = paper_tables.method_label("gcpm-ushaped-mpii", 5)
    assert label.startswith("Ours") and "suite" in label
    assert "suite" not in paper_tables.method_label("hourglass-8stack", 5)


def test_params_and_gflops_are_rounded_from_the_raw_counts():
    complexity = pd.DataFrame(
        {"model": ["a"], "params": [40_599_600], "FLOPs (1 MAC = 1 FLOP)": [1_004_999_999],
         "params (M)": [40.595], "GFLOPs (1 MAC = 1 FLOP)": [1.005]}  # rounded copies
    )  # fmt: skip
    view = views.formatted(paper_tables.complexity_frame(complexity), views.COMPLEXITY_VIEW)
    assert view.loc[0, "params (M)"] == "40.60" and view.loc[0, "GFLOPs"] == "1.00"
