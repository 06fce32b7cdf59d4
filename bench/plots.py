"""Figures of the harness: latency vs GFLOPs, and runtime / FLOP shares by layer type.

The second figure shows the GCPM paper's Sec. 5.5 claim at a glance: for hourglass networks the
1x1 convolutions take a larger share of the time than of the FLOPs. Figures are built on the Agg
canvas directly (no pyplot, so no global backend state and nothing happens at import).
"""

from __future__ import annotations

import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def latency_vs_gflops(latency: pd.DataFrame, counts: pd.DataFrame) -> Figure:
    """fp32 median latency (p10-p90 bars) against GFLOPs (1 MAC = 1 FLOP), one point per model."""
    fp32 = latency[latency["mode"] == "fp32"].merge(counts, on="model")
    fig = _figure(6.5, 4.5)
    ax = fig.add_subplot()
    err = [fp32.median_ms - fp32.p10_ms, fp32.p90_ms - fp32.median_ms]
    ax.errorbar(fp32.gmacs, fp32.median_ms, yerr=err, fmt="o", capsize=3)
    for row in fp32.itertuples():
        ax.annotate(row.model, (row.gmacs, row.median_ms), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    device = fp32.device.iloc[0] if len(fp32) else "?"
    ax.set(xlabel="GFLOPs (1 MAC = 1 FLOP)", ylabel="batch-1 latency, median (ms)",
           title=f"Latency vs complexity on {device} (bars: p10-p90)")
    ax.grid(alpha=0.3)
    return fig


def layer_shares(layers: pd.DataFrame) -> Figure:
    """Stacked bars per model: share of profiled time and of FLOPs for each layer type."""
    types = list(dict.fromkeys(layers.layer_type))
    models = list(dict.fromkeys(layers.model))
    fig = _figure(max(6.0, 1.4 * len(models) + 3), 5.0)
    ax = fig.add_subplot()
    colors = [colormaps["tab20"](i % 20) for i in range(len(types))]
    width = 0.38
    bars = ((-width / 2, "time_share_pct", ""), (width / 2, "flops_share_pct", "//"))
    for offset, column, hatch in bars:
        bottom = [0.0] * len(models)
        for t, color in zip(types, colors):
            values = [float(layers[(layers.model == m) & (layers.layer_type == t)][column].sum())
                      for m in models]
            ax.bar([i + offset for i in range(len(models))], values, width, bottom=bottom,
                   color=color, hatch=hatch, edgecolor="white", label=t if not hatch else None)
            bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_xticks(range(len(models)), models, rotation=20, ha="right")
    ax.set(ylabel="share (%)", ylim=(0, 100),
           title="Runtime share (left bar) vs FLOP share (right, hatched) by layer type")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig
