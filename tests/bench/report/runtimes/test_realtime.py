"""bench.report.runtimes.realtime: cpu_realtime.md beside the paper's Sec. 5.4 figure."""

from __future__ import annotations

import pytest

from bench.report.runtimes.realtime import (
    CV,
    PAPER_FPS,
    realtime_notes,
    realtime_table,
    realtime_view,
)
from bench.report.runtimes.table import runtimes_table
from bench.report.views import MISSING
from tests.bench.report.runtimes.fabricated import COUNTS, ENV, fabricated, row

BUSY = {**ENV, "load": {"load_1m": 5.0, "cores": 2, "busy": True}}


def _realtime(*more: dict, model: str = "net"):
    return realtime_table(runtimes_table(fabricated(*more), COUNTS, "ref"), model, "Test CPU")


def test_cpu_realtime_puts_the_papers_figure_last_and_labelled():
    rt = _realtime()
    assert list(rt.threads) == [1, 2, 2, 6] and rt.fps.iloc[0] == pytest.approx(1000 / 32)
    assert rt.source.iloc[-1].startswith("paper") and rt.fps.iloc[-1] == PAPER_FPS
    assert set(rt.source.iloc[:-1]) == {"ours (Test CPU)"}


def test_cv_is_shown_in_percent():
    rt = _realtime(row("net", "onnxruntime", "fp32", 2, 40.0, cv=0.25))
    assert "cv" not in rt and rt[CV].max() == pytest.approx(25.0)


def test_the_notes_name_the_fastest_row_against_the_paper():
    notes = realtime_notes(_realtime(), "net", ENV)
    assert "Fastest here: openvino bf16 at 2 thread(s), 62.5 fps" in notes
    assert f"{62.5 / PAPER_FPS:.2f}x the paper's" in notes
    assert "Oversubscription" not in notes and "Busy machine" not in notes


def test_more_threads_running_slower_is_called_oversubscription():
    rt = _realtime(row("net", "eager", "fp32", 1, 25.0))  # 40 fps at 1 thread, 20 at 2
    notes = realtime_notes(rt, "net", ENV)
    assert "Oversubscription:** eager fp32 at 2 threads (20.0 fps) ran slower than at 1" in notes
    assert "openvino bf16 at 2 threads" not in notes  # faster at 2 threads: not flagged


def test_a_busy_machine_is_said():
    assert realtime_notes(_realtime(), "net", BUSY).startswith("**Busy machine:** load 5.0 on 2")


def test_a_run_without_the_realtime_model_says_how_to_get_it():
    rt = _realtime(model="absent")
    assert realtime_notes(rt, "absent", ENV).startswith("absent was not measured on the CPU")


def test_the_view_formats_each_quantity_once_and_marks_short_rows():
    view = realtime_view(_realtime())
    ours, paper = view.iloc[0], view.iloc[-1]
    assert (ours.samples, ours.fps, ours.threads) == ("3", "31.2†", "1")  # 3 samples < 64
    assert (paper.fps, paper.input, paper.samples) == ("19.5", MISSING, MISSING)
    notes = realtime_notes(_realtime(), "net", ENV)
    assert "`†` fewer than 64 samples" in notes
