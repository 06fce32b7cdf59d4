"""The runtimes outputs as writers for ``bench.tables`` and the index.html section."""

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
from bench.report.runtimes.realtime import realtime_notes, realtime_table, realtime_view
from bench.report.runtimes.table import runtimes_notes, runtimes_table
from bench.report.runtimes.view import runtimes_view, view_notes

Writer = Callable[[Path], Path]
OUTPUT_NAMES = (
    *("runtimes.csv", "runtimes.md", "runtimes_full.md", "cpu_realtime.md"),
    *("runtimes_latency.png", "runtimes_pareto.png", "runtimes_accuracy.png"),
)
TITLE = "Deployment runtimes: batch-1 latency, accuracy against eager fp32, efficiency"
EMPTY = "(no runtime was timed in this run)"


def _paper_pckh(model: str, table: int) -> float | None:
    return getattr(model_info(model).paper_row(table), "pckh", None)


@dataclass(frozen=True)
class RuntimesReport:
    table: pd.DataFrame  # every column: runtimes.csv
    notes: str  # for the full table
    view: pd.DataFrame  # the headline view: runtimes.md
    view_notes: str

    def full_markdown(self) -> pd.DataFrame:
        """Every column; the diffs keep their exponent (1e-7 beside 0.5 would show as 0.000)."""
        shown = headline.uniform(self.table)
        shown[["max_abs_diff", "rel_diff"]] = self.table[["max_abs_diff", "rel_diff"]]
        return shown

    def section(self) -> report_html.Section:
        return report_html.Section("runtimes", TITLE, self.view, self.view_notes)


def runtimes_report(
    m: RuntimeMeasurements, counts: pd.DataFrame, env: dict, reference: str
) -> RuntimesReport:
    table = runtimes_table(m, counts, reference)
    compact = f"{view_notes(table, reference)}\n\n{runtimes_notes(table, m, env, reference, False)}"
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
    report = runtimes_report(m, counts, env, reference)
    table, full = report.table, report.full_markdown()
    realtime = realtime_table(table, m.realtime_model, env.get("cpu_model", "this CPU"))
    rt_title = f"{m.realtime_model} frames per second on this CPU beside the paper's (Sec. 5.4)"
    figures = {
        "runtimes_latency.png": latency_by_runtime(table, m.device, colors),
        "runtimes_pareto.png": pareto(table, m.device, _paper_pckh, colors),
        "runtimes_accuracy.png": accuracy_vs_latency(table, m.device, colors),
    }
    return {
        "runtimes.csv": lambda p: io.write_csv(table, p),
        "runtimes.md": lambda p: io.write_markdown(report.view, p, TITLE, report.view_notes, EMPTY),
        "runtimes_full.md": lambda p: io.write_markdown(
            full, p, f"{TITLE} (every column)", report.notes, EMPTY
        ),
        "cpu_realtime.md": lambda p: io.write_markdown(
            realtime_view(realtime), p, rt_title, realtime_notes(realtime, m.realtime_model, env)
        ),
        **{name: lambda p, fig=fig: io.write_figure(fig, p) for name, fig in figures.items()},
    }
