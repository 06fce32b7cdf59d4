"""bench.report.runtimes.plots: latency bars, the paper-accuracy Pareto view, and our accuracy
against latency with its Pareto front."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.report.runtimes.plots import _pareto_front, accuracy_vs_latency, crowded, pareto
from tests.bench.report.runtimes.fabricated import row


def _spread(low_ms: float, high_ms: float) -> pd.DataFrame:
    """Eight models' eager fp32 rows with medians spread evenly in log from low to high."""
    ms = [low_ms * (high_ms / low_ms) ** (i / 7) for i in range(8)]
    return pd.DataFrame([row(f"m{i}", "eager", "fp32", 2, v) for i, v in enumerate(ms)])


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


def test_the_pareto_front_keeps_rows_no_other_beats_on_both_axes():
    points = pd.DataFrame({"median_ms": [10.0, 20.0, 15.0, 30.0], "pckh": [70.0, 80.0, 65.0, 79.0]})
    assert list(_pareto_front(points).index) == [0, 1]


def test_the_accuracy_figure_has_one_point_per_scored_row_and_the_front():
    rows = pd.DataFrame(
        [
            row("a", "eager", "fp32", 2, 50.0, pckh=80.0, accuracy="pass"),
            row("a", "openvino", "int8", 2, 20.0, pckh=79.5, accuracy="pass"),
            row("b", "eager", "fp32", 2, 30.0, pckh=60.0, accuracy="pass"),
            row("b", "openvino", "int8", 2, 10.0, pckh=40.0, accuracy="FAILED: x"),
        ]
    )
    fig = accuracy_vs_latency(rows, "cpu")
    ax = fig.axes[0]
    scattered = sum(len(c.get_offsets()) for c in ax.collections)
    assert scattered == 4  # one point per row (the legend's handles are empty)
    front = ax.get_lines()[0]
    assert list(front.get_xdata()) == [10.0, 20.0, 50.0]
    assert ax.get_ylabel() == "PCKh (ours, validation split)"


def test_accuracy_scored_on_generated_data_says_so_on_its_axis():
    scored_on = "generated lip val, 40 persons at 128x128"
    rows = pd.DataFrame(
        [row("a", "eager", "fp32", 2, 5.0, pckh=80.0, accuracy="pass", scored_on=scored_on)]
    )
    ax = accuracy_vs_latency(rows, "cpu").axes[0]
    assert ax.get_ylabel() == "PCKh (ours, generated validation data)"


def test_an_unscored_run_says_so_in_the_accuracy_figure():
    fig = accuracy_vs_latency(pd.DataFrame([row("a", "eager", "fp32", 2, 5.0)]), "cpu")
    assert "no row was scored" in fig.axes[0].texts[0].get_text()
