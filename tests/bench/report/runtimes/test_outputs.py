"""bench.report.runtimes.outputs: the runtimes files of a run, written as one set."""

from __future__ import annotations

import pandas as pd

from bench.measure.runtimes.timing import ALL_MODELS, QUICK, RuntimeMeasurements
from bench.report.publish import publish, verify
from bench.report.runtimes.outputs import OUTPUT_NAMES, runtime_outputs, runtimes_report
from bench.report.runtimes.table import COLUMNS
from bench.report.runtimes.view import LATENCY
from tests.bench.report.runtimes.fabricated import COUNTS, ENV, MARKED, NAN, fabricated, row
from tests.tiny_models import register_tiny


def test_outputs_write_a_compact_and_a_full_table_as_one_set(tmp_path):
    for name in ("ref", "net"):
        register_tiny(name)  # the Pareto figure asks the registry for each model's paper rows
    m = fabricated(*MARKED)
    writers = runtime_outputs(m, COUNTS, ENV, "ref")
    assert set(writers) == set(OUTPUT_NAMES) and "runtimes_full.md" in OUTPUT_NAMES
    publish(tmp_path, writers, owned=OUTPUT_NAMES, producer="test")
    assert verify(tmp_path, OUTPUT_NAMES) == []
    compact = (tmp_path / "runtimes.md").read_text(encoding="utf-8").splitlines()
    full = (tmp_path / "runtimes_full.md").read_text(encoding="utf-8").splitlines()
    assert compact[2].count("|") == 9 and full[2].count("|") == len(COLUMNS) + 1
    assert full[0] == compact[0] + " (every column)"
    assert sum(line.startswith(f"| {ALL_MODELS}") for line in full) == 1
    assert not any(line.startswith(f"| {ALL_MODELS}") for line in compact)
    assert any("| 6.7e-08 " in line for line in full)  # not rounded to 0.000 with the rest
    section = runtimes_report(m, COUNTS, ENV, "ref").section()
    assert section.stem == "runtimes" and list(section.table.columns)[3] == LATENCY


def test_a_run_where_no_runtime_could_run_says_so(tmp_path):
    reasons = [
        row(ALL_MODELS, "tensorrt", p, 2, NAN, samples=0, validation="", reason="needs CUDA")
        for p in ("fp32", "fp16")
    ]
    no_peaks = pd.DataFrame(columns=["device", "precision", "threads", "peak_gflops_per_s"])
    m = RuntimeMeasurements(pd.DataFrame(reasons), no_peaks, QUICK, realtime_model="net")
    writers = runtime_outputs(m, COUNTS, ENV, "ref")
    writers["runtimes.md"](tmp_path / "runtimes.md")
    text = (tmp_path / "runtimes.md").read_text(encoding="utf-8")
    assert "(no runtime was timed in this run)" in text
    assert "Runtimes not run at all:\n- tensorrt fp32, tensorrt fp16: needs CUDA" in text
