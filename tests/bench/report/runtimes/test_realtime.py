"""bench.report.runtimes.realtime: cpu_realtime.md beside the paper's Sec. 5.4 figure."""

from __future__ import annotations

import pytest

from bench.report.runtimes.realtime import PAPER_FPS, realtime_notes, realtime_table
from bench.report.runtimes.table import runtimes_table
from tests.bench.report.runtimes.fabricated import COUNTS, fabricated


def test_cpu_realtime_puts_the_papers_figure_last_and_labelled():
    t = runtimes_table(fabricated(), COUNTS, reference="ref")
    rt = realtime_table(t, "net", "Test CPU")
    assert list(rt.threads) == [1, 2, 2, 6] and rt.fps.iloc[0] == pytest.approx(1000 / 32)
    assert rt.source.iloc[-1].startswith("paper") and rt.fps.iloc[-1] == PAPER_FPS
    assert set(rt.source.iloc[:-1]) == {"ours (Test CPU)"}


def test_the_notes_name_the_fastest_row_against_the_paper():
    rt = realtime_table(runtimes_table(fabricated(), COUNTS, "ref"), "net", "Test CPU")
    notes = realtime_notes(rt, "net")
    assert "Fastest here: openvino bf16 at 2 thread(s), 62.5 fps" in notes
    assert f"{62.5 / PAPER_FPS:.2f}x the paper's" in notes


def test_a_run_without_the_realtime_model_says_how_to_get_it():
    rt = realtime_table(runtimes_table(fabricated(), COUNTS, "ref"), "absent", "Test CPU")
    assert realtime_notes(rt, "absent").startswith("absent was not measured on the CPU")
