"""The runtimes outputs as writers for ``bench.tables``: runtimes.csv, runtimes.md (headline
view), runtimes_full.md (every column), cpu_realtime.md, plots, and the index.html section.

Everything is built here, before anything is written; ``bench.tables`` writes each file
atomically with the rest of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from architectures import model_info
from bench.measure.runtimes.timing import RuntimeMeasurements
from bench.report import files as io
from bench.report import html as report_html
from bench.report import views as headline
from bench.report.plots import Color
from bench.report.runtimes.plots import accuracy_vs_latency, latency_by_runtime, pareto
from bench.report.runtimes.realtime import realtime_notes, realtime_table
from bench.report.runtimes.table import runtimes_notes, runtimes_table
from bench.report.runtimes.view import runtimes_view, view_notes

Writer = Callable[[Path], Path]
OUTPUT_NAMES = (
    "runtimes.csv",
    "runtimes.md",
    "runtimes_full.md",
    "cpu_realtime.md",
    "runtimes_latency.png",
    "runtimes_pareto.png",
    "runtimes_accuracy.png",
)


def _paper_pckh(model: str, table: int) -> float | None:
    figures = model_info(model).paper_row(table)
    return getattr(figures, "pckh", None) if figures is not None else None


TITLE = "Deployment runtimes: batch-1 latency, accuracy against eager fp32, efficiency"
EMPTY = "(no runtime was timed in this run)"
_EXPONENT_COLUMNS = ("max_abs_diff", "rel_diff")  # 1e-7 next to 0.5: fixed decimals show 0.000


@dataclass(frozen=True)
class RuntimesReport:
    table: pd.DataFrame  # every column: runtimes.csv
    notes: str  # for the full table
    view: pd.DataFrame  # the headline view: runtimes.md
    view_notes: str

    def full_markdown(self) -> pd.DataFrame:
        """Every column, one decimals setting per column (the diffs in 3 significant digits)."""
        shown = headline.uniform(self.table)
        for column in _EXPONENT_COLUMNS:
            shown[column] = self.table[column]
        return shown

    def section(self) -> report_html.Section:
        return report_html.Section("runtimes", TITLE, self.view, self.view_notes)


def runtimes_report(
    m: RuntimeMeasurements, counts: pd.DataFrame, env: dict, reference: str
) -> RuntimesReport:
    table = runtimes_table(m, counts, reference)
    compact = (
        view_notes(table, reference) + "\n\n" + runtimes_notes(table, m, env, reference, full=False)
    )
    return RuntimesReport(
        table, runtimes_notes(table, m, env, reference), runtimes_view(table, reference), compact
    )


def runtime_outputs(
    m: RuntimeMeasurements,
    counts: pd.DataFrame,
    env: dict,
    reference: str,
    colors: Mapping[str, Color] | None = None,
) -> dict[str, Writer]:
    """File name -> writer for every runtimes output of one run."""
    report = runtimes_report(m, counts, env, reference)
    table = report.table
    full = report.full_markdown()
    realtime = realtime_table(table, m.realtime_model, env.get("cpu_model", "this CPU"))
    bars = latency_by_runtime(table, m.device, colors)
    front = pareto(table, m.device, _paper_pckh, colors)
    ours = accuracy_vs_latency(table, m.device, colors)
    rt_title = f"{m.realtime_model} frames per second on this CPU beside the paper's (Sec. 5.4)"
    return {
        "runtimes.csv": lambda p: io.write_csv(table, p),
        "runtimes.md": lambda p: io.write_markdown(report.view, p, TITLE, report.view_notes, EMPTY),
        "runtimes_full.md": lambda p: io.write_markdown(
            full, p, f"{TITLE} (every column)", report.notes, EMPTY
        ),
        "cpu_realtime.md": lambda p: io.write_markdown(
            realtime, p, rt_title, realtime_notes(realtime, m.realtime_model)
        ),
        "runtimes_latency.png": lambda p: io.write_figure(bars, p),
        "runtimes_pareto.png": lambda p: io.write_figure(front, p),
        "runtimes_accuracy.png": lambda p: io.write_figure(ours, p),
    }
