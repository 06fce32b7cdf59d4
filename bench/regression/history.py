"""The gate's history: one row per model and recorded pass, in record order; a change point is
a step above the tolerance between consecutive passes (docs/regression-gate.md)."""

from __future__ import annotations

import hashlib
import json
import statistics
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from bench.regression.model import PROG, TOLERANCE, GateError, Pass
from bench.report import files as io
from bench.report.plots import model_colors

COLUMNS = [
    *("recorded_at", "commit", "dirty", "fingerprint_id", "cpu", "torch", "signal", "input"),
    *("model", "figure", "value", "samples", "params", "flops"),
]


def fingerprint_id(fingerprint: dict) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:12]


def rows_of(result: Pass) -> pd.DataFrame:
    """One row per model of ``result``: the median of its gated figure."""
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    (h, w), fp = result.config.input_size, result.fingerprint
    run = [now, result.commit, bool(result.dirty), fingerprint_id(fp), fp.get("cpu", "")]
    run += [fp.get("torch", ""), "instructions", f"{h}x{w}"]
    models = [
        (n, result.figure_of(n), statistics.median(m.samples), len(m.samples), m.params, m.flops)
        for n, m in result.models.items()
    ]
    return pd.DataFrame([[*run, *m] for m in models], columns=COLUMNS)


def read_history(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise GateError(f"no history at {path}; add a pass with `{PROG} record`") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise GateError(f"{path}: not a regression history CSV ({exc})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise GateError(f"{path}: not a regression history (missing columns {missing})")
    if frame.empty:
        return frame
    # a file cut mid-row (a killed copy, a full disk): pandas reads it silently
    cut_at_end = not path.read_bytes().endswith(b"\n")
    short = frame[["value", "samples", "params", "flops"]].isna().any(axis=1)
    if short.any() or cut_at_end:
        line = (short.idxmax() if short.any() else len(frame) - 1) + 2  # 1-based, after header
        raise GateError(f"{path}: line {line} is cut short (a truncated history file)")
    return frame


def append(path: Path, rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` added to the history at ``path`` (created if absent), written atomically."""
    frame = pd.concat([read_history(path), rows], ignore_index=True) if path.exists() else rows
    io.write_csv(frame, path)
    return frame


def series(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per model, the rows comparable with the latest (fingerprint, signal, input), numbered."""
    if frame.empty:
        raise GateError("the history is empty")
    same = ["fingerprint_id", "signal", "input"]
    keep = frame[(frame[same] == frame[same].iloc[-1]).all(axis=1)]
    keep = keep.assign(**{"pass": keep.groupby(["commit", "recorded_at"], sort=False).ngroup()})
    return {m: g.reset_index(drop=True) for m, g in keep.groupby("model", sort=True)}


def change_points(values: list[float], tolerance: float = TOLERANCE) -> list[int]:
    """Indices whose value differs from the one before by more than ``tolerance`` (relative)."""
    return [i for i in range(1, len(values)) if abs(values[i] / values[i - 1] - 1) > tolerance]


def change_table(per_model: dict[str, pd.DataFrame], tolerance: float = TOLERANCE) -> pd.DataFrame:
    """One row per change point: the commits and the values on each side."""
    rows = []
    for model, g in per_model.items():
        values = g.value.tolist()
        for start in change_points(values, tolerance):
            before, after = values[start - 1], values[start]
            commits = [str(c)[:10] for c in g.commit[start - 1 : start + 1]]
            change = 100 * (after / before - 1)
            rows.append([model, g["pass"][start], *commits, before, after, change])
    columns = ["model", "pass", "from commit", "to commit", "before", "after", "change (%)"]
    return pd.DataFrame(rows, columns=columns)


def plot(per_model: dict[str, pd.DataFrame], changes: pd.DataFrame, path: Path) -> Path:
    """Each model's figure relative to its first value, pass by pass."""
    fig = Figure(figsize=(10, 5))
    ax = fig.add_subplot()
    colors = model_colors(list(per_model))  # the tables' colours; distinct past ten models
    for model, g in per_model.items():
        ax.plot(g["pass"], g.value / g.value.iloc[0], marker="o", label=model, color=colors[model])
        for start in changes[changes.model == model]["pass"]:
            ax.axvline(start - 0.5, color="grey", linestyle=":")
    passes = pd.concat(g[["pass", "commit"]] for g in per_model.values()).drop_duplicates("pass")
    labels = [str(c)[:7] for c in passes.commit]
    ax.set_xticks(list(passes["pass"]), labels, rotation=60, fontsize=7)
    ax.set(xlabel="recorded pass (commit)", ylabel="gated figure / first recorded value")
    ax.set_title("Regression gate history (dotted: change points)")
    ax.ticklabel_format(axis="y", useOffset=False)  # 1.0004, not "+1" over 0.0004
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return io.write_figure(fig, path)
