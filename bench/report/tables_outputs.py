"""Every file ``bench.tables`` writes, built from one run's :class:`Measurements`.

:func:`outputs` returns file name -> writer; every frame and figure is built before anything is
written, then :mod:`bench.report.publish` writes them as one set. A table with a headline view
writes the view to ``<stem>.md`` and every column to ``<stem>.csv`` and ``<stem>_full.md``;
``index.html`` comes last, embedding the PNGs written before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from bench.measure.suite import Measurements
from bench.report import files as io
from bench.report import html, notes, plots, views
from bench.report.paper_tables import (
    METRIC_LABELS,
    PAPER_METRICS,
    TABLE_TITLES,
    complexity_frame,
    layer_share_table,
    paper_table,
    speedup_rows,
)
from bench.report.runtimes.outputs import OUTPUT_NAMES as RUNTIME_OUTPUTS
from bench.report.runtimes.outputs import runtime_outputs, runtimes_report

PRODUCER = "bench.tables"
Writer = Callable[[Path], Path]
EMPTY_TABLE = "(no measured model stands behind a row of this table)"
_STEMS = ("table3", "table4", "table5", "complexity", "latency", "layer_profile")
# Every name the tables may write: one of these that a run does not produce leaves with the
# previous set; one present that no manifest lists is refused (bench.report.publish).
OUTPUT_NAMES = (
    tuple(f"{stem}{ext}" for stem in _STEMS for ext in (".csv", ".md", "_full.md"))
    + ("latency_vs_gflops.png", "speedups.png", "layer_profile.png", "env.json", "index.html")
    + RUNTIME_OUTPUTS
)


def in_percent(latency: pd.DataFrame) -> pd.DataFrame:
    """The latency rows with the CV in % (``cv_pct``), as every table shows it."""
    return latency.assign(cv=100 * latency["cv"]).rename(columns={"cv": "cv_pct"})


class _Files:
    """The writers of the set and the sections of its page, added table by table."""

    def __init__(self) -> None:
        self.writers: dict[str, Writer] = {}
        self.sections: list[html.Section] = []

    def table(self, stem: str, df: pd.DataFrame, title: str, text: str, view: pd.DataFrame) -> None:
        self.writers[f"{stem}.csv"] = lambda p: io.write_csv(df, p)
        self.writers[f"{stem}.md"] = lambda p: io.write_markdown(view, p, title, text, EMPTY_TABLE)
        full_title = f"{title} (every column)"
        self.writers[f"{stem}_full.md"] = lambda p: io.write_markdown(
            df, p, full_title, text, EMPTY_TABLE
        )
        self.sections.append(html.Section(stem, title, view, text))

    def figure(self, name: str, fig: object) -> None:
        self.writers[name] = lambda p: io.write_figure(fig, p)


def outputs(m: Measurements, names: Sequence[str], reference: str) -> dict[str, Writer]:
    """File name -> writer for every output of the run."""
    out = _Files()
    tables = {table: paper_table(table, m, names, reference) for table in (4, 5)}
    for table, df in tables.items():
        shown = [reference, *df.model] if not df.empty else [reference]
        rows = m.latency[m.latency.model.isin(shown)]
        labels = [METRIC_LABELS[k] for k in PAPER_METRICS[table]]
        out.table(
            f"table{table}",
            df,
            TABLE_TITLES[table],
            notes.paper_table_notes(m.env, rows, table, names, reference),
            views.paper_table_view(df, reference, labels, 100 * notes.NOISY_CV),
        )
    out.table(
        "table3",
        m.table3,
        "Table 3: complexity of the context modules",
        notes.GFLOPS_NOTE,
        views.formatted(m.table3, views.TABLE3_VIEW),
    )
    complexity = complexity_frame(m.complexity)
    out.table(
        "complexity",
        complexity,
        "Parameters and GFLOPs (1 MAC = 1 FLOP) at batch 1",
        notes.GFLOPS_NOTE,
        views.formatted(complexity, views.COMPLEXITY_VIEW),
    )
    out.table(
        "latency",
        in_percent(m.latency),
        "Batch-1 latency, every model and mode",
        notes.latency_notes(m.env, m.latency),
        views.latency_view(m.latency, notes.NOISY_CV),
    )
    colors = plots.model_colors(names)
    if m.runtimes is not None:
        out.writers.update(runtime_outputs(m.runtimes, m.counts, m.env, reference, colors))
        out.sections.append(runtimes_report(m.runtimes, m.counts, m.env, reference).section())
    out.figure("latency_vs_gflops.png", plots.latency_vs_gflops(m.latency, m.counts, colors))
    speeds = speedup_rows(tables, reference)
    if not speeds.empty:
        out.figure("speedups.png", plots.speedups(speeds, reference, colors))
    if m.layers is not None:
        _layer_profile(out, m, colors)
    out.writers["env.json"] = lambda p: io.write_json(m.env, p)
    # Last, and reading the writers when it writes: it embeds every PNG written before it.
    others = list(out.writers)
    out.writers["index.html"] = lambda p: html.write_index(p, m.env, out.sections, others)
    return out.writers


def _layer_profile(out: _Files, m: Measurements, colors: dict) -> None:
    layers = m.layers
    share = layer_share_table(layers)
    title = "Runtime by layer type (share of profiled op time) beside share of FLOPs"
    text = notes.layer_notes(m.env, layers)
    out.writers["layer_profile.csv"] = lambda p: io.write_csv(layers, p)
    out.writers["layer_profile.md"] = lambda p: io.write_markdown(
        views.uniform(share, places=1), p, title, text
    )
    out.figure("layer_profile.png", plots.layer_shares(layers, colors))
