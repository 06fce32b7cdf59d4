"""Compact headline views of the result tables: the few columns a reader compares, one format each.

The full frames (every statistic, every mode, every paper figure) go to the CSV files and to the
``*_full.md`` files; the views here keep what answers "how fast is it here, and how does that
compare with the GCPM paper": our median latency with its p10-p90 spread, our speed-up beside
the paper's, params, GFLOPs and accuracy. Every cell is a string formatted once per column (the
same decimals in every row), so Markdown and HTML show the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

NOISY_MARK = "*"  # a latency cell whose fp32 CV is above the noise threshold, or throttled
SHORT_MARK = "†"  # fewer samples or less time than a valid timing needs (latency ``validity``)
MISSING = "–"  # a figure the source does not give (the paper's CPM AUC, a user model's time)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def decimals_for(values: Sequence[float]) -> int:
    """Decimals that show the smallest finite value with about three significant digits."""
    finite = [abs(float(v)) for v in values if not _missing(v) and float(v) != 0.0]
    if not finite:
        return 1
    smallest = min(finite)
    return 0 if smallest >= 100 else 1 if smallest >= 10 else 2 if smallest >= 1 else 3


def column_spec(values: Sequence[float]) -> str:
    """The format of a float column: :func:`decimals_for` it, or three significant digits
    (``6.7e-08``) when it holds values below 0.001 that fixed decimals would show as 0."""
    tiny = any(not _missing(v) and 0 < abs(float(v)) < 1e-3 for v in values)
    return ".3g" if tiny else f".{decimals_for(values)}f"


def number(value: object, decimals: int) -> str:
    return MISSING if _missing(value) else format(float(value), f".{decimals}f")


def joined(values: Sequence[object], decimals: int, sep: str = " / ") -> str:
    """``"87.9 / 78.0"``; empty when every value is missing (a row the paper has no figures for)."""
    if all(_missing(v) for v in values):
        return ""
    return sep.join(number(v, decimals) for v in values)


def latency_cells(
    median: pd.Series,
    p10: pd.Series,
    p90: pd.Series,
    flagged: pd.Series,
    short: Sequence[bool] | None = None,
) -> list[str]:
    """``"425 (392–448)"``: median with its p10-p90 spread, one decimals setting per column;
    :data:`NOISY_MARK` where ``flagged``, :data:`SHORT_MARK` where ``short``."""
    places = decimals_for(list(median))
    short = [False] * len(median) if short is None else list(short)
    return [
        f"{number(m, places)} ({number(lo, places)}–{number(hi, places)})"
        + (NOISY_MARK if flag else "")
        + (SHORT_MARK if too_short else "")
        for m, lo, hi, flag, too_short in zip(median, p10, p90, flagged, short)
    ]


def invalid(df: pd.DataFrame) -> list[bool]:
    """Rows the timer marked not valid (``valid`` False: too few samples or too short); rows
    without that column, or with no figure at all, are not marked."""
    if "valid" not in df:
        return [False] * len(df)
    return [v is False or v == False for v in df["valid"]]  # numpy bools too


def paper_table_view(
    full: pd.DataFrame, reference: str, metrics: Sequence[str], noisy_cv_pct: float
) -> pd.DataFrame:
    """The headline view of a Table 4 / 5 frame from :func:`bench.report.paper_tables.paper_table`.

    ``metrics`` are the accuracy labels of the table (``("PCKh", "Hip")``); measured accuracy
    columns ``"<metric> (ours, val)"`` present in ``full`` get one column of their own.
    """
    if full.empty:
        return full
    flagged = (full["CV (%)"] > noisy_cv_pct) | full["throttled"].astype(bool)
    view = pd.DataFrame(
        {
            "method": full["method (paper row)"],
            "model": full["model"],
            "input": full["input"],
            "latency, ms: median (p10–p90)": latency_cells(
                full["latency median (ms)"],
                full["p10 (ms)"],
                full["p90 (ms)"],
                flagged,
                invalid(full),
            ),
            f"speed-up vs {reference}": [number(v, 2) for v in full[f"speed-up vs {reference}"]],
            "speed-up (paper)": [
                number(v, 2) if not _missing(v) else "" for v in full["speed-up (paper)"]
            ],
            "params (M)": [number(v, 2) for v in full["params (M)"]],
            "GFLOPs": [number(v, 2) for v in full["GFLOPs (1 MAC = 1 FLOP)"]],
        }
    )
    label = " / ".join(metrics)
    paper = [f"{m} (paper)" for m in metrics]
    view[f"{label} (paper)"] = [joined(row, 1) for row in full[paper].itertuples(index=False)]
    ours = [f"{m} (ours, val)" for m in metrics]
    if any(c in full for c in ours):
        columns = full.reindex(columns=ours)
        view[f"{label} (ours, val)"] = [joined(row, 1) for row in columns.itertuples(index=False)]
    return view


def formatted(df: pd.DataFrame, columns: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    """Selected columns under new headers: header -> (column of ``df``, format spec; "" keeps
    the values as they are). Columns ``df`` lacks are left out; formatted by :func:`as_text`."""
    present = {header: column for header, (column, _) in columns.items() if column in df}
    view = pd.DataFrame({header: df[column] for header, column in present.items()})
    return as_text(view, {h: spec for h, (_, spec) in columns.items() if h in present and spec})


def latency_view(latency: pd.DataFrame, noisy_cv: float) -> pd.DataFrame:
    """Every model and mode: median (p10-p90), CV, samples, and why a mode has no figure."""
    if latency.empty:
        return latency
    flagged = (latency["cv"] > noisy_cv) | latency["throttled"].astype(bool)
    view = formatted(
        latency, {"model": ("model", ""), "mode": ("mode", ""), "input": ("input", "")}
    )
    view["latency, ms: median (p10–p90)"] = latency_cells(
        latency["median_ms"], latency["p10_ms"], latency["p90_ms"], flagged, invalid(latency)
    )
    view["CV (%)"] = [number(100 * v, 1) for v in latency["cv"]]
    view["samples"] = [str(int(v)) for v in latency["iters"]]
    view["note"] = [_note(row) for _, row in latency.iterrows()]
    return view


def _note(row: pd.Series) -> str:
    """Why a mode has no figure, else why its figure is not a valid timing, else nothing."""
    for column in ("reason", "validity"):
        text = row.get(column)
        if isinstance(text, str) and text and text != "ok":
            return text
    return ""


COMPLEXITY_VIEW = {
    "model": ("model", ""),
    "family": ("family", ""),
    "dataset": ("dataset", ""),
    "input": ("input (HxW)", ""),
    "params (M)": ("params (M)", ".2f"),
    "GFLOPs": ("GFLOPs (1 MAC = 1 FLOP)", ".2f"),
    "params vs ref. (%)": ("params vs ref. (%)", "+.1f"),
    "GFLOPs vs ref. (%)": ("GFLOPs vs ref. (%)", "+.1f"),
    "GFLOPs vs paper (%)": ("GFLOPs vs paper (%)", "+.1f"),
}
TABLE3_VIEW = {
    "module": ("module", ""),
    "model": ("model", ""),
    "input": ("input shape", ""),
    "params (M)": ("params (M)", ".2f"),
    "params (M, paper)": ("paper params (M)", ".2f"),
    "params vs paper (%)": ("params vs paper (%)", "+.1f"),
    "GFLOPs": ("GFLOPs (1 MAC = 1 FLOP)", ".3f"),
    "GFLOPs (paper)": ("paper GFLOPs", ".3f"),
    "GFLOPs vs paper (%)": ("GFLOPs vs paper (%)", "+.1f"),
}


def as_text(df: pd.DataFrame, formats: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every float column as text, formatted once per column: ``formats[column]`` (a format
    spec such as ``".2f"``), else :func:`column_spec`; missing values show as :data:`MISSING`.
    Text, integers and flags are left as they are.

    The paper's 60 ms and 6 ms read "60.00" and "6.00", not "60.0" and "6".
    """
    formats = formats or {}
    shown = df.astype(object)
    for column in df.columns:
        if column in formats or pd.api.types.is_float_dtype(df[column]):
            spec = formats.get(column) or column_spec(list(df[column]))
            shown[column] = [MISSING if _missing(v) else format(v, spec) for v in df[column]]
    return shown


def uniform(df: pd.DataFrame, places: int | None = None) -> pd.DataFrame:
    """:func:`as_text` with ``places`` decimals in every float column (``None``: per column)."""
    floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
    return as_text(df, None if places is None else dict.fromkeys(floats, f".{places}f"))
