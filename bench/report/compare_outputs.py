"""The files of ``bench.compare``: ``compare_*.csv``, ``compare.md``, ``.html``, ``.png``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from bench.report import files as io
from bench.report import html as report_html
from bench.report.compare import (
    REFERENCE,
    ResultSet,
    column,
    differences,
    latency_frame,
    runtimes_frame,
)
from bench.report.plots import hbars, new_figure
from bench.report.publish import Writer
from bench.report.views import MISSING, decimals_for, number

OUTPUT_NAMES = ("compare.md", "compare_latency.csv", "compare_runtimes.csv", "compare_env.csv")
OUTPUT_NAMES += ("compare_speedups.png", "compare.html")
TITLE = "Result sets compared"
CELL = ("median_ms", "speedup", "rank", "rank_change")
ENV_NOTES = (
    "Only settings that differ. Lists of flags show each set's flags that not every set has "
    "(+flag); run ids, wall times and a GPU's momentary state are left out."
)


def rank_cell(rank: object, change: object) -> str:
    """``"3 ↑2"``: rank 3, two places higher than on the first set; ``"3"`` unchanged."""
    if pd.isna(rank):
        return MISSING
    mark = "" if pd.isna(change) or change == 0 else f" ↑{change}" if change > 0 else f" ↓{-change}"
    return f"{int(rank)}{mark}"


def cell(median: object, speedup: object, rank: object, change: object, places: int) -> str:
    """``"80.9 ms · 4.43× · #2 ↑1"``; what a set lacks is left out (``–`` for no figure)."""
    if pd.isna(median):
        return MISSING
    parts = [f"{number(median, places)} ms", MISSING if pd.isna(speedup) else f"{speedup:.2f}×"]
    return " · ".join(parts + ([] if pd.isna(rank) else [f"#{rank_cell(rank, change)}"]))


def view(df: pd.DataFrame, keys: Sequence[str], labels: Sequence[str]) -> pd.DataFrame:
    shown = df[list(keys)].astype(str).copy()
    places = decimals_for([v for x in labels for v in df[column(x, "median_ms")]])
    for x in labels:
        shown[x] = [cell(*row, places) for row in zip(*(df[column(x, f)] for f in CELL))]
    for x in labels[1:]:
        shown[f"{x} vs {labels[0]}"] = [
            MISSING if pd.isna(v) else f"{v:.2f}×" for v in df[column(x, "vs_first")]
        ]
    return shown


def _ranks_note(first: str, among: str) -> str:
    return (
        "A set's cell: median (ms) · speed-up · rank. "
        f"Rank: 1 = fastest {among} that every set timed; ↑n / ↓n: n places higher / lower "
        f"than on {first}. '<set> vs {first}': {first}'s median over the set's (above 1: "
        f"faster than on {first})."
    )


def latency_notes(sets: Sequence[ResultSet], reference: str) -> str:
    lacking = [s.label for s in sets if reference not in set(s.latency.model)]
    return (
        "Median fp32 batch-1 latency of each set (its latency.csv, the latency of Tables 4 "
        f"and 5). Speed-up = median of {reference} / median of the row, both from the same set. "
        + _ranks_note(sets[0].label, "of the models")
        + (f" No {reference} in {', '.join(lacking)}: no speed-ups there." if lacking else "")
        + " Milliseconds depend on the machine; compare speed-ups and ranks."
    )


def runtimes_notes(sets: Sequence[ResultSet]) -> str:
    lacking = [s.label for s in sets if s.runtimes is None]
    return (
        "Timed rows of each set's runtimes.csv. Threads: 'all' = every thread the set used "
        "(the counts differ between machines), '1' = one thread. Speed-up = median of eager "
        "fp32 of the same model, device and threads in the same set / median of the row. "
        + _ranks_note(sets[0].label, "runtime and precision of the model (same device, threads)")
        + (f" No runtimes timed in {', '.join(lacking)}." if lacking else "")
    )


@dataclass(frozen=True)
class Comparison:
    sets: Sequence[ResultSet]
    latency: pd.DataFrame
    runtimes: pd.DataFrame | None
    env: pd.DataFrame
    sections: list[report_html.Section]
    reference: str = REFERENCE

    def markdown(self) -> str:
        rows = [
            (s.label, str(s.folder), str(s.env.get("run_id", MISSING)), len(s.latency))
            for s in self.sets
        ]
        overview = pd.DataFrame(rows, columns=["set", "folder", "run", "models"])
        parts = [f"# {TITLE}\n", io.to_markdown(overview)]
        parts += [f"## {s.title}\n\n" + io.to_markdown(s.table, "", s.notes) for s in self.sections]
        return "\n".join(parts)

    def summary(self) -> str:
        first = self.sets[0].label
        lines = [f"{len(self.sets)} result sets (ratios and rank marks against {first}):"]
        lines += [f"  {s.label}: {s.folder}" for s in self.sets]
        lines += ["", io.to_markdown(self.sections[0].table).rstrip()]
        if self.runtimes is not None:
            changes = self.runtimes[[column(s.label, "rank_change") for s in self.sets]]
            moved = changes.fillna(0).ne(0).any(axis=1).sum()
            lines.append(f"runtimes: {len(self.runtimes)} rows, {moved} with a rank change")
        settings = ", ".join(self.env.setting) if not self.env.empty else "none"
        lines.append(f"environments differ in: {settings}")
        return "\n".join(lines)


def compare(sets: Sequence[ResultSet], reference: str = REFERENCE) -> Comparison:
    labels = [s.label for s in sets]
    latency, runtimes = latency_frame(sets, reference), runtimes_frame(sets)
    env = differences({s.label: s.env for s in sets})
    Section = report_html.Section
    title = "fp32 batch-1 latency per model (Tables 4 and 5)"
    shown = view(latency, ["model", "input"], labels)
    sections = [Section("compare_latency", title, shown, latency_notes(sets, reference))]
    if runtimes is not None:
        shown = view(runtimes, ["model", "runtime", "precision", "device", "threads"], labels)
        sections += [
            Section("compare_runtimes", "Deployment runtimes", shown, runtimes_notes(sets))
        ]
    sections += [Section("compare_env", "Environment differences", env, ENV_NOTES)]
    return Comparison(sets, latency, runtimes, env, sections, reference)


def speedup_figure(latency: pd.DataFrame, labels: Sequence[str], reference: str) -> Figure:
    fig = new_figure(8.0, 0.3 * len(latency) * len(labels) + 1.6)
    ax = fig.add_subplot()
    height = 0.8 / len(labels)
    for j, label in enumerate(labels):
        places = [i + (j - (len(labels) - 1) / 2) * height for i in range(len(latency))]
        values = latency[column(label, "speedup")].astype(float).fillna(0.0)
        hbars(ax, places, list(values), height, label=label)
    ax.set_yticks(range(len(latency)), latency["model"], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1.0, color="0.4", lw=0.8)
    ax.set_xlabel(f"fp32 speed-up over {reference}, within each set (higher is faster)")
    ax.margins(x=0.08)  # room for the last bar's value
    fig.legend(fontsize=8, loc="outside upper center", ncols=min(len(labels), 4))
    return fig


def writers(c: Comparison) -> dict[str, Writer]:
    files: dict[str, Writer] = {
        "compare.md": lambda p: io.write_text(p, c.markdown()),
        "compare_latency.csv": lambda p: io.write_csv(c.latency, p),
    }
    if c.runtimes is not None:
        files["compare_runtimes.csv"] = lambda p: io.write_csv(c.runtimes, p)
    files["compare_env.csv"] = lambda p: io.write_csv(c.env, p)
    labels = [s.label for s in c.sets]
    if c.latency[[column(x, "speedup") for x in labels]].notna().any(axis=None):
        figure = speedup_figure(c.latency, labels, c.reference)
        files["compare_speedups.png"] = lambda p: io.write_figure(figure, p)
    names, keep = [*files], ("device", "cpu_model", "cpu_count", "torch", "run_id")
    env = {s.label: {"folder": str(s.folder), **{k: s.env.get(k) for k in keep}} for s in c.sets}
    files["compare.html"] = lambda p: io.write_text(
        p, report_html.render(Path(p).parent, env, c.sections, names, TITLE)
    )
    return files
