"""The runtimes outputs as writers for ``bench.tables``: runtimes.csv/.md, cpu_realtime.md, plots.

Everything is built here, before anything is written; ``bench.tables`` writes each file
atomically with the rest of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from architectures import model_info
from bench import io
from bench.plots import Color

from .measure import RuntimeMeasurements
from .plots import latency_by_runtime, pareto
from .realtime import realtime_notes, realtime_table
from .table import runtimes_notes, runtimes_table

Writer = Callable[[Path], Path]
OUTPUT_NAMES = (
    "runtimes.csv",
    "runtimes.md",
    "cpu_realtime.md",
    "runtimes_latency.png",
    "runtimes_pareto.png",
)


def _paper_pckh(model: str, table: int) -> float | None:
    figures = model_info(model).paper_row(table)
    return getattr(figures, "pckh", None) if figures is not None else None


def runtime_outputs(
    m: RuntimeMeasurements,
    counts: pd.DataFrame,
    env: dict,
    reference: str,
    colors: Mapping[str, Color] | None = None,
) -> dict[str, Writer]:
    """File name -> writer for every runtimes output of one run."""
    table = runtimes_table(m, counts, reference)
    notes = runtimes_notes(table, m, env, reference)
    realtime = realtime_table(table, m.realtime_model, env.get("cpu_model", "this CPU"))
    bars = latency_by_runtime(table, m.device, colors)
    front = pareto(table, m.device, _paper_pckh, colors)
    title = "Deployment runtimes: batch-1 latency, validation against eager fp32, efficiency"
    rt_title = f"{m.realtime_model} frames per second on this CPU beside the paper's (Sec. 5.4)"
    return {
        "runtimes.csv": lambda p: io.write_csv(table, p),
        "runtimes.md": lambda p: io.write_markdown(table, p, title, notes),
        "cpu_realtime.md": lambda p: io.write_markdown(
            realtime, p, rt_title, realtime_notes(realtime, m.realtime_model)
        ),
        "runtimes_latency.png": lambda p: io.write_figure(bars, p),
        "runtimes_pareto.png": lambda p: io.write_figure(front, p),
    }
