"""Notes under the tables: each about its table's columns, warnings for noisy rows and a busy
machine, the summary line that says where the results are."""

from __future__ import annotations

import pandas as pd

from bench.report import notes

ENV = {
    "device": "cpu",
    "gpu": {"name": None},
    "cpu_model": "Some CPU",
    "torch_threads": 2,
    "torch": "2.x",
    "timing": {"modes": ["fp32"]},
}
BUSY = {**ENV, "load": {"load_1m": 3.5, "cores": 2, "busy": True}}


def _latency(rows: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"model": n, "mode": "fp32", "median_ms": 10.0, "cv": cv} for n, cv in rows.items()]
    )


def test_noisy_rows_are_called_out_in_percent():
    warning = notes.noise_warning(_latency({"calm": 0.05, "busy": 0.5}))
    assert "busy (50 %)" in warning and "calm" not in warning
    assert notes.noise_warning(_latency({"calm": 0.05})) == ""


def test_a_busy_machine_is_said_in_the_notes_and_the_summary():
    assert "Busy machine" in notes.latency_notes(BUSY, _latency({"a": 0.01}))
    assert "Busy" not in notes.latency_notes(ENV, _latency({"a": 0.01}))
    line = notes.summary_line(12, "runs/tables", BUSY)
    assert "runs/tables/index.html" in line and "busy" in line
    assert "busy" not in notes.summary_line(12, "runs/tables", ENV)


def test_latency_notes_speak_only_of_latency_columns():
    text = notes.latency_notes(ENV, _latency({"a": 0.01}))
    assert "Speed-up" not in text and "(paper)" not in text and "CV in %" in text
    table = notes.paper_table_notes(ENV, _latency({"a": 0.01}), 4, [], "ref")
    assert "Speed-up = latency of ref" in table


def test_layer_notes_give_coverage_and_uncounted_flops():
    layers = pd.DataFrame(
        {
            "model": ["a", "a", "b", "b"],
            "layer_type": ["1x1 conv", "pooling", "pooling", "other"],
            "coverage_pct": [91.2, 91.2, 80.0, 80.0],
            "flops_counted": ["yes", "no", "no", "partly"],
        }
    )
    text = notes.layer_notes(ENV, layers)
    assert "a 91 %, b 80 %" in text
    assert "pooling no (every model); other partly (b)" in text and "1x1" not in text
    assert "Speed-up" not in text
