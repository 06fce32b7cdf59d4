"""The views, Markdown, HTML and CSV of a comparison of two hand-written result sets."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.report import compare as joined
from bench.report.compare_outputs import compare, rank_cell, writers
from tests.bench.report.test_compare import two_sets


@pytest.fixture
def comparison(tmp_path):
    return compare(joined.load_sets(two_sets(tmp_path), ["A", "B"]))


@pytest.mark.parametrize(
    ("rank", "change", "cell"),
    [(3, 0, "3"), (2, 1, "2 ↑1"), (5, -3, "5 ↓3"), (pd.NA, pd.NA, "–"), (1, pd.NA, "1")],
)
def test_rank_cell_marks_places_gained_or_lost(rank, change, cell):
    assert rank_cell(rank, change) == cell


def test_latency_view_has_a_cell_per_set_and_the_ratio_to_the_first(comparison):
    view = comparison.sections[0].table.set_index("model")
    assert list(view.columns) == ["input", "A", "B", "B vs A"]
    assert view.loc["gcpm-ushaped", "A"] == "100.00 ms · 4.00× · #2"
    assert view.loc["gcpm-ushaped", "B"] == "10.00 ms · 2.00× · #1 ↑1"
    assert view.loc["fpd-4stack", "B"].endswith("#2 ↓1")
    assert view.loc["gcpm-ushaped", "B vs A"] == "10.00×"
    assert (
        view.loc["hourglass-4stack", "A"] == "–" and view.loc["hourglass-4stack", "B vs A"] == "–"
    )


def test_runtime_view_marks_rank_changes_among_runtimes(comparison):
    view = comparison.sections[1].table
    onnx = view[(view.runtime == "onnxruntime") & (view.threads == "all")].iloc[0]
    assert onnx["B"] == "20.00 ms · 4.00× · #1 ↑1"


def test_markdown_holds_every_table_and_the_summary_the_latency_and_differences(comparison):
    text = comparison.markdown()
    for heading in (
        "# Result sets compared",
        "## fp32 batch-1",
        "## Deployment runtimes",
        "## Environment differences",
    ):
        assert heading in text
    summary = comparison.summary()
    assert "10.00 ms · 2.00× · #1 ↑1" in summary
    assert "environments differ in: cpu_model, isa" in summary
    assert "with a rank change" in summary


def test_writers_write_raw_csv_and_a_page_that_links_them(comparison, tmp_path):
    files = writers(comparison)
    assert list(files)[-1] == "compare.html"
    out = tmp_path / "out"
    out.mkdir()
    for name, write in files.items():
        write(out / name)
    csv = pd.read_csv(out / "compare_latency.csv")
    assert csv.loc[csv.model == "gcpm-ushaped", "B vs_first"].item() == pytest.approx(10.0)
    page = (out / "compare.html").read_text()
    assert 'href="compare_latency.csv"' in page and "NVIDIA H200" in page
    assert "data:image/png;base64," in page  # the speed-up figure, embedded
    assert "cpu_model" in pd.read_csv(out / "compare_env.csv").setting.tolist()


def test_no_speedup_figure_when_no_set_has_the_reference(tmp_path):
    result = compare(joined.load_sets(two_sets(tmp_path)), reference="no-such-model")
    assert "compare_speedups.png" not in writers(result)


def test_without_runtimes_there_is_no_runtime_file(tmp_path):
    from tests.bench.report.test_compare import ENV_A, ENV_B, LATENCY_A, LATENCY_B, write_set

    sets = [
        write_set(tmp_path / "a", ENV_A, LATENCY_A),
        write_set(tmp_path / "b", ENV_B, LATENCY_B),
    ]
    result = compare(joined.load_sets(sets))
    assert "compare_runtimes.csv" not in writers(result)
    assert [s.stem for s in result.sections] == ["compare_latency", "compare_env"]
