"""Figures of the runtimes table (docs/runtimes.md); models keep the colours of every other figure
of the run (``bench.report.plots.model_colors``), runtimes get markers."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator

from bench.report.plots import Color, log_if_wide, model_colors, new_figure
from bench.report.runtimes.table import main_rows

_MARKERS = "osD^v<>Xph*"


def crowded(axis: Axis, gap: float = 0.5) -> bool:
    """Whether neighbouring tick labels in view come closer than ``gap`` x their font size."""
    fig = axis.axes.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    low, high = sorted(axis.get_view_interval())
    boxes = [
        label.get_window_extent(renderer).padded(gap / 2 * label.get_fontsize() * fig.dpi / 72)
        for tick, label in zip(axis.get_majorticklocs(), axis.get_ticklabels())
        if low <= tick <= high and label.get_visible() and label.get_text()
    ]
    return any(a.overlaps(b) for a, b in pairwise(boxes))


def uncrowd(axis: Axis) -> None:
    """A crowded 1-2-5 log axis: labels at the decades only, 2 and 5 as unlabelled ticks."""
    if axis.get_scale() == "log" and crowded(axis):
        axis.set_major_locator(LogLocator(base=10, subs=(1.0,)))
        axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))


def _scored_on(points: pd.DataFrame) -> str:
    """ "generated validation data" when every point was scored on a generated set."""
    generated = points.get("scored_on", pd.Series([""])).astype(str).str.startswith("generated")
    return "generated validation data" if generated.all() else "validation split"


def _setups(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    rows = rows.assign(setup=rows.runtime + " " + rows.precision)
    return rows, list(dict.fromkeys(rows.setup))


def _points(ax: Axes, rows: pd.DataFrame, pckh, setups: list[str], colors, hollow=None, size=40):
    """A point per row with a PCKh (colour: model, marker: runtime and precision); log x if wide."""
    hollow = [False] * len(rows) if hollow is None else hollow
    for row, y, empty in zip(rows.itertuples(), pckh, hollow):
        if y is not None:
            color, marker = colors[row.model], _MARKERS[setups.index(row.setup) % len(_MARKERS)]
            face = "none" if empty else color
            ax.scatter(row.median_ms, y, s=size, marker=marker, edgecolors=color, facecolors=face)
    log_if_wide(ax, "x", rows.median_ms)
    ax.grid(alpha=0.3)


def _legend(fig: Figure, ax: Axes, setups: list[str], colors, models: Sequence[str], extra=()):
    """Markers name the runtimes, colours the models."""
    handles = [
        ax.scatter([], [], color="0.3", marker=_MARKERS[i % len(_MARKERS)], label=s)
        for i, s in enumerate(setups)
    ]
    shown = set(models)
    handles += [
        ax.scatter([], [], color=c, marker="s", label=m) for m, c in colors.items() if m in shown
    ]
    fig.legend(handles=[*handles, *extra], fontsize=7, loc="outside right center")


def latency_by_runtime(
    df: pd.DataFrame, device: str, colors: Mapping[str, Color] | None = None
) -> Figure:
    """Grouped bars: median latency (p10-p90 whiskers) of each model in each runtime."""
    rows, setups = _setups(main_rows(df, device))
    models = list(dict.fromkeys(rows.model))
    colors = colors or model_colors(models)
    fig = new_figure(max(6.5, 1.2 * len(setups) + 3), 4.8)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(models))
    for i, model in enumerate(models):
        mine = rows[rows.model == model]
        offset = (i - (len(models) - 1) / 2) * width
        xs = [setups.index(s) + offset for s in mine.setup]
        err = [mine.median_ms - mine.p10_ms, mine.p90_ms - mine.median_ms]
        ax.bar(xs, mine.median_ms, width, yerr=err, capsize=2, color=colors[model], label=model)
    ax.set_xticks(range(len(setups)), setups, rotation=20, ha="right")
    log_if_wide(ax, "y", rows.median_ms)
    uncrowd(ax.yaxis)
    threads = int(rows.threads.max()) if not rows.empty else 0
    ax.set(
        ylabel="batch-1 latency, median (ms)",
        title=f"Latency per runtime on {device} ({threads} threads; whiskers p10-p90)",
    )
    ax.grid(alpha=0.3, axis="y")
    if models:  # a run where no runtime could run has no bars to name
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def pareto(
    df: pd.DataFrame,
    device: str,
    accuracy: Callable[[str, int], float | None],
    colors: Mapping[str, Color] | None = None,
) -> Figure:
    """The paper's PCKh (``accuracy(model, table)``, None without a row) against our latency."""
    rows, setups = _setups(main_rows(df, device))
    colors = colors or model_colors(rows.model)
    fig = new_figure(11.0, 4.8)
    for k, (table, dataset) in enumerate(((4, "LIP"), (5, "MPII"))):
        ax = fig.add_subplot(1, 2, k + 1)
        _points(ax, rows, [accuracy(r.model, table) for r in rows.itertuples()], setups, colors)
        ax.set(
            xlabel="our batch-1 latency, median (ms)",
            ylabel=f"PCKh (paper, {dataset} test)",
            title=f"GCPM Table {table} models: paper accuracy vs our latency",
        )
    _legend(fig, ax, setups, colors, rows.model)
    for panel in fig.axes:
        uncrowd(panel.xaxis)
    return fig


def _pareto_front(points: pd.DataFrame) -> pd.DataFrame:
    """Rows no other row beats on both latency (lower) and PCKh (higher), fastest first."""
    ordered = points.sort_values(["median_ms", "pckh"], ascending=[True, False])
    return ordered[ordered.pckh > ordered.pckh.cummax().shift(fill_value=-math.inf)]


def accuracy_vs_latency(
    df: pd.DataFrame, device: str, colors: Mapping[str, Color] | None = None
) -> Figure:
    """Our validation PCKh against latency per scored row (hollow: failed), the Pareto front."""
    rows = main_rows(df, device)
    points = rows[pd.to_numeric(rows.reindex(columns=["pckh"]).pckh, errors="coerce").notna()]
    fig = new_figure(8.0, 4.8)
    ax = fig.add_subplot()
    if points.empty:
        text = "no row was scored in this run\n(give trained checkpoints and a data root)"
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    points = points.assign(pckh=points.pckh.astype(float))
    points, setups = _setups(points)
    colors = colors or model_colors(points.model)
    failed = points.accuracy.astype(str).str.startswith("FAILED")
    _points(ax, points, points.pckh, setups, colors, failed, size=45)
    front = _pareto_front(points)
    ax.plot(front.median_ms, front.pckh, color="0.4", lw=1, ls="--", zorder=0, label="Pareto front")
    uncrowd(ax.xaxis)
    ax.set(
        xlabel="batch-1 latency, median (ms)",
        ylabel=f"PCKh (ours, {_scored_on(points)})",
        title=f"Accuracy vs latency per runtime on {device} (hollow: failed the pass rule)",
    )
    _legend(fig, ax, setups, colors, points.model, ax.get_lines())
    return fig
