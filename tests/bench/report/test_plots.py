"""Figures a person reads without zooming: labels apart, log axes where needed, one colour each."""

from __future__ import annotations

import itertools

import pandas as pd
from matplotlib.colors import to_rgba

from bench.report import plots

# Crowded points (gcpm-ushaped beside gcpm-ushaped-mpii, fpd-4stack beside gcpm-ushaped-2stage),
# made worse: two more models almost on top of them.
POINTS = {
    "hourglass-8stack": (27.58, 660.0),
    "gcpm-ushaped": (21.34, 425.0),
    "gcpm-ushaped-mpii": (22.26, 412.0),
    "gcpm-ushaped-twin": (21.6, 418.0),
    "hourglass-4stack": (14.78, 340.0),
    "fpd-4stack": (3.95, 156.0),
    "gcpm-ushaped-2stage": (7.33, 147.0),
    "fpd-4stack-twin": (4.1, 150.0),
    "cpm-original": (88.42, 1497.0),
}


def _frames(points: dict[str, tuple[float, float]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    latency = pd.DataFrame(
        [
            {"model": n, "mode": "fp32", "device": "cpu", "median_ms": ms}
            | {"p10_ms": 0.95 * ms, "p90_ms": 1.05 * ms}
            for n, (_, ms) in points.items()
        ]
    )
    counts = pd.DataFrame({"model": list(points), "gmacs": [g for g, _ in points.values()]})
    return latency, counts


def _labels(fig) -> list:
    fig.canvas.draw()
    ax = fig.axes[0]
    return [t for t in ax.texts if t.get_text() in POINTS]


def test_labels_of_crowded_points_do_not_overlap():
    fig = plots.latency_vs_gflops(*_frames(POINTS))
    labels = _labels(fig)
    assert sorted(t.get_text() for t in labels) == sorted(POINTS)
    renderer = fig.canvas.get_renderer()
    boxes = {t.get_text(): t.get_window_extent(renderer) for t in labels}
    frame = fig.axes[0].get_window_extent(renderer)
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        assert not box_a.overlaps(box_b), (a, b)
    for name, box in boxes.items():  # inside the axes, not over the title or the tick labels
        assert frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1), name


def test_log_axes_only_where_the_range_calls_for_it():
    wide = plots.latency_vs_gflops(*_frames(POINTS)).axes[0]
    assert (wide.get_xscale(), wide.get_yscale()) == ("log", "log")  # 3.95-88 G, 147-1497 ms
    narrow = {k: POINTS[k] for k in ("gcpm-ushaped", "gcpm-ushaped-mpii", "hourglass-4stack")}
    ax = plots.latency_vs_gflops(*_frames(narrow)).axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "linear")


def test_a_model_has_the_same_colour_in_every_figure():
    latency, counts = _frames(POINTS)
    colors = plots.model_colors(list(POINTS))
    assert len(set(colors.values())) == len(POINTS)
    scatter = plots.latency_vs_gflops(latency, counts, colors)
    by_label = {t.get_text(): to_rgba(t.get_color()) for t in _labels(scatter)}
    layers = pd.DataFrame(
        [
            {"model": m, "layer_type": t, "time_share_pct": 50.0, "flops_share_pct": 50.0}
            for m in POINTS
            for t in ("1x1 conv", "3x3 conv")
        ]
    )
    bars = plots.layer_shares(layers, colors)
    ticks = {t.get_text(): to_rgba(t.get_color()) for t in bars.axes[0].get_xticklabels()}
    speed = pd.DataFrame(
        {"label": ["Table 4: Ours"], "model": ["gcpm-ushaped"], "ours": [1.5], "paper": [3.3]}
    )
    rows = plots.speedups(speed, "hourglass-8stack", colors).axes[0].get_yticklabels()
    for name in POINTS:
        assert by_label[name] == ticks[name] == to_rgba(colors[name])
    assert to_rgba(rows[0].get_color()) == to_rgba(colors["gcpm-ushaped"])
    # The order models are passed in does not change a model's colour.
    assert plots.model_colors(list(reversed(POINTS))) == colors


def test_colours_read_on_white_and_markers_tell_close_points_apart():
    for count in (3, 10, 14):
        names = [f"model-{i:02d}" for i in range(count)]
        colors = plots.model_colors(names)
        assert len(set(colors.values())) == count
        assert all(plots.luminance(c) <= plots.MAX_LUMINANCE for c in colors.values())
    fig = plots.latency_vs_gflops(*_frames(POINTS))
    lines = [line for line in fig.axes[0].get_lines() if line.get_marker() not in ("_", "None")]
    shapes = {line.get_marker() for line in lines}
    assert len(shapes) == len(POINTS) and all(line.get_fillstyle() == "none" for line in lines)
