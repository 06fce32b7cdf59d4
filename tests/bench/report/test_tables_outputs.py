"""The files of a tables run from its measurements: the CV in %, footers about the table's own
columns, every output name declared."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.measure.suite import Measurements
from bench.report import tables_outputs

ENV = {
    "device": "cpu",
    "gpu": {"name": None},
    "cpu_model": "Some CPU",
    "torch_threads": 2,
    "torch": "2.x",
    "timing": {"modes": ["fp32"]},
}


@pytest.fixture
def measured() -> Measurements:
    latency = pd.DataFrame(
        [
            {"model": "hourglass-8stack", "mode": "fp32", "input": "256x256", "device": "cpu"}
            | {"median_ms": 100.0, "p10_ms": 90.0, "p90_ms": 110.0, "cv": 0.25, "iters": 5}
            | {"throttled": False}
        ]
    )
    counts = pd.DataFrame({"model": ["hourglass-8stack"], "params_m": [25.5], "gmacs": [26.2]})
    table3 = pd.DataFrame({"module": ["ASPP"], "params (M)": [9.5]})
    return Measurements(ENV, latency, counts, pd.DataFrame({"model": []}), table3)


def test_every_file_is_declared_and_the_cv_is_in_percent(measured, tmp_path):
    writers = tables_outputs.outputs(measured, ["hourglass-8stack"], "hourglass-8stack")
    assert set(writers) <= set(tables_outputs.OUTPUT_NAMES)
    assert list(writers)[-1] == "index.html"
    for name in ("latency.csv", "latency.md", "table3.md", "table5.md"):
        writers[name](tmp_path / name)
    assert pd.read_csv(tmp_path / "latency.csv").cv_pct.iloc[0] == 25.0
    assert "25 %" in (tmp_path / "latency.md").read_text()  # the noise warning, in %
    table3 = (tmp_path / "table3.md").read_text()
    assert "Speed-up" not in table3 and "Latency" not in table3  # no latency columns there
    assert "Speed-up = latency of hourglass-8stack" in (tmp_path / "table5.md").read_text()
