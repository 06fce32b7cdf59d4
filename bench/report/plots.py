"""Figures of GCPM Sec. 5.5 without pyplot state: one colour per model, log axes when wide."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import Bbox

Color = tuple[float, float, float, float]
LOG_RANGE = 10.0  # max / min above this: log axis, else small values crowd one corner
# Label offsets (points): sides, then diagonals, farther each round; the first that fits wins.
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
_OFFSETS = tuple((dx * r, dy * r) for r in (6, 14, 24) for dx, dy in _DIRECTIONS)
_SIDES = {1: ("left", "bottom"), -1: ("right", "top"), 0: ("center", "center")}  # by sign

MAX_LUMINANCE = 0.18  # relative luminance at most this: 4.5:1 contrast with a white page
MARKERS = "osD^vP<>Xph*"  # one shape per model, so points that overlap stay apart


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def luminance(color: Color) -> float:
    """WCAG relative luminance of an sRGB colour."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in color[:3]]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _readable(color: Color) -> Color:
    while luminance(color) > MAX_LUMINANCE:  # darkened until text in it reads on white
        color = (*(0.9 * c for c in color[:3]), color[3])
    return color


def model_colors(names: Sequence[str]) -> dict[str, Color]:
    """One colour per model, in name order: tab10 (hsv past ten), darkened to read on white."""
    ordered = sorted(dict.fromkeys(names))
    cmap = colormaps["tab10"] if len(ordered) <= 10 else colormaps["hsv"].resampled(len(ordered))
    return {name: _readable(cmap(i)) for i, name in enumerate(ordered)}


def log_if_wide(ax: Axes, axis: str, values: Sequence[float]) -> bool:
    positive = [float(v) for v in values if not math.isnan(float(v)) and float(v) > 0]
    if len(positive) < 2 or max(positive) / min(positive) <= LOG_RANGE:
        return False
    getattr(ax, f"set_{axis}scale")("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    # Labels at 1-2-5 steps, written 20, 50, 100 rather than 2x10^1; unlabelled minor ticks.
    target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())
    return True


def _overlap(a: Bbox, b: Bbox) -> float:
    both = Bbox.intersection(a, b)
    return both.width * both.height if both is not None else 0.0


def place_labels(ax: Axes, points: Sequence[tuple[float, float, str, Color]]) -> None:
    """Each label at the first offset of :data:`_OFFSETS` clear of labels, points and the axes'
    edge, else the least crowded (greedy: enough for a dozen points)."""
    fig = ax.figure
    fig.canvas.draw()  # the layout engine fixes the axes' position first; offsets use it
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    pad = 4.0 * fig.dpi / 72  # half a marker, in pixels
    taken = [
        Bbox.from_extents(px - pad, py - pad, px + pad, py + pad)
        for px, py in ax.transData.transform([(x, y) for x, y, _, _ in points])
    ]
    for x, y, text, color in points:
        best, best_cost = None, math.inf
        for dx, dy in _OFFSETS:
            align = {"ha": _SIDES[np.sign(dx)][0], "va": _SIDES[np.sign(dy)][1], "color": color}
            label = ax.annotate(text, (x, y), (dx, dy), textcoords="offset points", **align)
            label.set_fontsize(8)
            box = label.get_window_extent(renderer)
            outside = box.width * box.height - _overlap(box, frame)
            cost = sum(_overlap(box, other) for other in taken) + outside
            if cost < best_cost:
                if best is not None:
                    best.remove()
                best, best_cost, best_box = label, cost, box
            else:
                label.remove()
            if cost == 0:
                break
        best.set_in_layout(False)  # the layout engine must not move the axes after placement
        taken.append(best_box)


def latency_vs_gflops(
    latency: pd.DataFrame, counts: pd.DataFrame, colors: Mapping[str, Color] | None = None
) -> Figure:
    fp32 = latency[latency["mode"] == "fp32"].merge(counts, on="model")
    colors = colors or model_colors(fp32.model)
    fig = new_figure(7.0, 4.8)
    ax = fig.add_subplot()
    markers = {n: MARKERS[i % len(MARKERS)] for i, n in enumerate(sorted(set(fp32.model)))}
    style = {"fillstyle": "none", "markersize": 7, "capsize": 3}  # open: overlaps stay visible
    for r in fp32.itertuples():
        err = [[r.median_ms - r.p10_ms], [r.p90_ms - r.median_ms]]
        ax.errorbar(r.gmacs, r.median_ms, err, fmt=markers[r.model], color=colors[r.model], **style)
    log_x = log_if_wide(ax, "x", fp32.gmacs)
    log_y = log_if_wide(ax, "y", list(fp32.p10_ms) + list(fp32.p90_ms))
    device = fp32.device.iloc[0] if len(fp32) else "?"
    scale = {(True, True): " (log-log)", (True, False): " (log x)", (False, True): " (log y)"}
    ax.set(xlabel="GFLOPs (1 MAC = 1 FLOP)", ylabel="batch-1 latency, median (ms)")
    ax.set_title(f"Latency vs complexity on {device}{scale.get((log_x, log_y), '')}; bars: p10-p90")
    ax.margins(0.12)
    ax.grid(alpha=0.3, which="both")
    place_labels(ax, [(r.gmacs, r.median_ms, r.model, colors[r.model]) for r in fp32.itertuples()])
    return fig


def hbars(ax: Axes, y: Sequence[float], values: Sequence[float], height: float, **style) -> None:
    bars = ax.barh(y, values, height, **style)
    text = ["" if math.isnan(v) or v == 0 else f"{v:.2f}" for v in map(float, values)]
    ax.bar_label(bars, text, padding=3, fontsize=7)


def speedups(rows: pd.DataFrame, reference: str, colors: Mapping[str, Color]) -> Figure:
    fig = new_figure(8.0, 0.55 * len(rows) + 1.6)
    ax = fig.add_subplot()
    h, y = 0.38, np.arange(len(rows))
    tint = np.array([colors[m] for m in rows.model])
    hbars(ax, y - h / 2, rows.ours, h, color=tint)
    paper = rows.paper.notna().to_numpy()
    style = {"alpha": 0.45, "hatch": "//", "edgecolor": "white"}
    hbars(ax, y[paper] + h / 2, rows.paper[paper], h, color=tint[paper], **style)
    for i in y[~paper]:
        ax.text(1.0, i + h / 2, "  no paper figure", va="center", fontsize=7, color="0.4")
    ax.set_yticks(y, [f"{r.label}\n{r.model}" for r in rows.itertuples()], fontsize=8)
    for tick, model in zip(ax.get_yticklabels(), rows.model):
        tick.set_color(colors[model])
    ax.invert_yaxis()
    ax.axvline(1.0, color="0.4", lw=0.8)
    log_if_wide(ax, "x", list(rows.ours) + list(rows.paper))
    ax.margins(x=0.12)
    ax.set_xlabel(f"speed-up = latency of {reference} / latency of the row (line: 1)")
    ax.set_title("Speed-ups: ours (solid) beside the paper's (hatched)")
    # Neutral legend swatches: the bars' colours stand for models, not for ours / paper.
    swatches = [Patch(color="0.35", label="ours (this machine)")]
    swatches.append(Patch(facecolor="0.35", label="paper (GTX 1080 Ti)", **style))
    ax.legend(handles=swatches, fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x", which="both")
    return fig


def layer_shares(layers: pd.DataFrame, colors: Mapping[str, Color]) -> Figure:
    types = list(dict.fromkeys(layers.layer_type))
    models = list(dict.fromkeys(layers.model))
    fig = new_figure(max(6.0, 1.4 * len(models) + 3), 5.0)
    ax = fig.add_subplot()
    # Set3's pastels for layer types, so they are not mistaken for the models' tab10 colours.
    type_colors = [colormaps["Set3"](i % 12) for i in range(len(types))]
    width = 0.38
    bars = ((-width / 2, "time_share_pct", ""), (width / 2, "flops_share_pct", "//"))
    for offset, column, hatch in bars:
        shares = layers.pivot_table(column, "layer_type", "model", "sum").reindex(types)[models]
        bottom = np.zeros(len(models))
        for t, color in zip(types, type_colors):
            values = shares.loc[t].fillna(0.0).to_numpy()
            ax.bar(np.arange(len(models)) + offset, values, width, bottom=bottom, color=color,
                   hatch=hatch, edgecolor="white", label=None if hatch else t)  # fmt: skip
            bottom += values
    ax.set_xticks(range(len(models)), models, rotation=20, ha="right")
    for tick, model in zip(ax.get_xticklabels(), models):
        tick.set_color(colors[model])
    ax.set(ylabel="share (%)", ylim=(0, 100))
    ax.set_title("Runtime share (left bar) vs FLOP share (right, hatched) by layer type")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
