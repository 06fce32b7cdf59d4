"""Every file ``bench.tables`` writes: ``<stem>.md`` headline, ``.csv``, ``_full.md`` in full."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from bench.measure.suite import Measurements
from bench.report import files as io
from bench.report import html, notes, paper_tables, plots, views
from bench.report.publish import Writer
from bench.report.runtimes.outputs import OUTPUT_NAMES as RUNTIME_OUTPUTS
from bench.report.runtimes.outputs import runtime_outputs, runtimes_report

EMPTY_TABLE = "(no measured model stands behind a row of this table)"
_STEMS = ("table3", "table4", "table5", "complexity", "latency", "layer_profile")
# Names the tables may write: one not produced leaves with the old set; unlisted ones are refused.
OUTPUT_NAMES = (
    tuple(f"{stem}{ext}" for stem in _STEMS for ext in (".csv", ".md", "_full.md"))
    + ("latency_vs_gflops.png", "speedups.png", "layer_profile.png", "env.json", "index.html")
    + RUNTIME_OUTPUTS
)


def outputs(m: Measurements, names: Sequence[str], reference: str) -> dict[str, Writer]:
    writers: dict[str, Writer] = {}
    sections: list[html.Section] = []

    def table(stem: str, df: pd.DataFrame, title: str, text: str, view: pd.DataFrame) -> None:
        full = f"{title} (every column)"
        writers[f"{stem}.csv"] = lambda p: io.write_csv(df, p)
        writers[f"{stem}.md"] = lambda p: io.write_markdown(view, p, title, text, EMPTY_TABLE)
        writers[f"{stem}_full.md"] = lambda p: io.write_markdown(df, p, full, text, EMPTY_TABLE)
        sections.append(html.Section(stem, title, view, text))

    tables = {number: paper_tables.paper_table(number, m, names, reference) for number in (4, 5)}
    for number, df in tables.items():
        rows = m.latency[m.latency.model.isin([reference, *df.get("model", [])])]
        labels = [paper_tables.METRIC_LABELS[k] for k in paper_tables.PAPER_METRICS[number]]
        text = notes.paper_table_notes(m.env, rows, number, names, reference)
        text += notes.unscored_note(df)
        view = views.paper_table_view(df, reference, labels, 100 * notes.NOISY_CV)
        table(f"table{number}", df, paper_tables.TABLE_TITLES[number], text, view)
    title = "Table 3: complexity of the context modules"
    view = views.formatted(m.table3, views.TABLE3_VIEW)
    table("table3", m.table3, title, notes.GFLOPS_NOTE, view)
    complexity = paper_tables.complexity_frame(m.complexity)
    title = "Parameters and GFLOPs (1 MAC = 1 FLOP) at batch 1"
    view = views.formatted(complexity, views.COMPLEXITY_VIEW)
    table("complexity", complexity, title, notes.GFLOPS_NOTE, view)
    in_percent = m.latency.assign(cv=100 * m.latency["cv"]).rename(columns={"cv": "cv_pct"})
    text = notes.latency_notes(m.env, m.latency)
    view = views.latency_view(m.latency, notes.NOISY_CV)
    table("latency", in_percent, "Batch-1 latency, every model and mode", text, view)
    colors = plots.model_colors(names)
    if m.runtimes is not None:
        writers.update(runtime_outputs(m.runtimes, m.counts, m.env, reference, colors))
        sections.append(runtimes_report(m.runtimes, m.counts, m.env, reference).section())
    figures = {"latency_vs_gflops.png": plots.latency_vs_gflops(m.latency, m.counts, colors)}
    speeds = paper_tables.speedup_rows(tables, reference)
    if not speeds.empty:
        figures["speedups.png"] = plots.speedups(speeds, reference, colors)
    if m.layers is not None:
        title = "Runtime by layer type (share of profiled op time) beside share of FLOPs"
        text = notes.layer_notes(m.env, m.layers)
        shares = views.uniform(paper_tables.layer_share_table(m.layers), places=1)
        writers["layer_profile.csv"] = lambda p: io.write_csv(m.layers, p)
        writers["layer_profile.md"] = lambda p: io.write_markdown(shares, p, title, text)
        figures["layer_profile.png"] = plots.layer_shares(m.layers, colors)
    for name, fig in figures.items():
        writers[name] = lambda p, fig=fig: io.write_figure(fig, p)
    writers["env.json"] = lambda p: io.write_json(m.env, p)
    others = list(writers)  # index.html embeds every PNG written before it
    writers["index.html"] = lambda p: io.write_text(
        p, html.render(Path(p).parent, m.env, sections, others)
    )
    return writers
