"""Headline views of the result tables: the columns a reader compares, formatted per column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

NOISY_MARK = "*"  # a latency cell whose fp32 CV is above the noise threshold, or throttled
SHORT_MARK = "†"  # fewer samples or less time than a valid timing needs (latency ``validity``)
MISSING = "–"  # a figure the source does not give (the paper's CPM AUC, a user model's time)
LATENCY = "latency, ms: median (p10–p90)"
# header -> (column, format spec) of the complexity and Table 3 views
# fmt: off
COMPLEXITY_VIEW = {
    "model": ("model", ""), "family": ("family", ""), "dataset": ("dataset", ""),
    "input": ("input (HxW)", ""), "params (M)": ("params (M)", ".2f"),
    "GFLOPs": ("GFLOPs (1 MAC = 1 FLOP)", ".2f"),
    "params vs ref. (%)": ("params vs ref. (%)", "+.1f"),
    "GFLOPs vs ref. (%)": ("GFLOPs vs ref. (%)", "+.1f"),
    "GFLOPs vs paper (%)": ("GFLOPs vs paper (%)", "+.1f"),
}
TABLE3_VIEW = {
    "module": ("module", ""), "model": ("model", ""), "input": ("input shape", ""),
    "params (M)": ("params (M)", ".2f"), "params (M, paper)": ("paper params (M)", ".2f"),
    "params vs paper (%)": ("params vs paper (%)", "+.1f"),
    "GFLOPs": ("GFLOPs (1 MAC = 1 FLOP)", ".3f"), "GFLOPs (paper)": ("paper GFLOPs", ".3f"),
    "GFLOPs vs paper (%)": ("GFLOPs vs paper (%)", "+.1f"),
}
# fmt: on


def decimals_for(values: Sequence[float]) -> int:
    """Decimals that show the smallest finite value with about three significant digits."""
    finite = [abs(float(v)) for v in values if not pd.isna(v) and float(v) != 0.0]
    smallest = min(finite, default=10.0)
    return 0 if smallest >= 100 else 1 if smallest >= 10 else 2 if smallest >= 1 else 3


def number(value: object, decimals: int) -> str:
    return MISSING if pd.isna(value) else format(float(value), f".{decimals}f")


def latency_cells(
    median: pd.Series, p10: pd.Series, p90: pd.Series, flagged: pd.Series, short: Sequence[bool]
) -> list[str]:
    """``"425 (392–448)*†"``: median (p10-p90), marked where ``flagged`` and where ``short``."""
    places = decimals_for(list(median))
    return [
        f"{number(m, places)} ({number(lo, places)}–{number(hi, places)})"
        + NOISY_MARK * bool(flag)
        + SHORT_MARK * bool(too_short)
        for m, lo, hi, flag, too_short in zip(median, p10, p90, flagged, short)
    ]


def invalid(df: pd.DataFrame) -> list[bool]:
    return df["valid"].eq(False).tolist() if "valid" in df else [False] * len(df)


def paper_table_view(
    full: pd.DataFrame, reference: str, metrics: Sequence[str], noisy_cv_pct: float
) -> pd.DataFrame:
    if full.empty:
        return full
    flagged = (full["CV (%)"] > noisy_cv_pct) | full["throttled"].astype(bool)
    ms = [full[c] for c in ("latency median (ms)", "p10 (ms)", "p90 (ms)")]
    view = full[["method (paper row)", "model", "input"]].copy()
    view.columns = ["method", "model", "input"]
    view[LATENCY] = latency_cells(*ms, flagged, invalid(full))
    view[f"speed-up vs {reference}"] = [number(v, 2) for v in full[f"speed-up vs {reference}"]]
    view["speed-up (paper)"] = [
        "" if pd.isna(v) else number(v, 2) for v in full["speed-up (paper)"]
    ]
    view["params (M)"] = [number(v, 2) for v in full["params (M)"]]
    view["GFLOPs"] = [number(v, 2) for v in full["GFLOPs (1 MAC = 1 FLOP)"]]
    for which in ("paper", "ours, val", "ours, generated val"):  # the paper's, then ours
        names = [f"{m} ({which})" for m in metrics]
        if which == "paper" or any(n in full for n in names):
            rows = full.reindex(columns=names).itertuples(index=False)
            view[f"{' / '.join(metrics)} ({which})"] = [
                "" if all(pd.isna(v) for v in row) else " / ".join(number(v, 1) for v in row)
                for row in rows
            ]
    return view


def formatted(df: pd.DataFrame, columns: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    present = {header: column for header, (column, _) in columns.items() if column in df}
    view = pd.DataFrame({header: df[column] for header, column in present.items()})
    return as_text(view, {h: spec for h, (_, spec) in columns.items() if h in present and spec})


def latency_view(latency: pd.DataFrame, noisy_cv: float) -> pd.DataFrame:
    if latency.empty:
        return latency
    flagged = (latency["cv"] > noisy_cv) | latency["throttled"].astype(bool)
    view = latency[["model", "mode", "input"]].copy()
    ms = [latency[c] for c in ("median_ms", "p10_ms", "p90_ms")]
    view[LATENCY] = latency_cells(*ms, flagged, invalid(latency))
    view["CV (%)"] = [number(100 * v, 1) for v in latency["cv"]]
    view["samples"] = [str(int(v)) for v in latency["iters"]]
    view["note"] = [_note(row) for _, row in latency.iterrows()]
    return view


def _note(row: pd.Series) -> str:
    """Why a mode has no figure, else why its figure is not a valid timing, else nothing."""
    texts = [row.get(column) for column in ("reason", "validity")]
    return next((t for t in texts if isinstance(t, str) and t not in ("", "ok")), "")


def as_text(df: pd.DataFrame, formats: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Float columns and those of ``formats`` as text, one spec per column (60 ms and 6 ms read
    "60.00" and "6.00"); without a spec: :func:`decimals_for`, or ``.3g`` below 0.001."""
    formats = formats or {}
    shown = df.astype(object)
    for column in df.columns:
        values = list(df[column])
        if column in formats or pd.api.types.is_float_dtype(df[column]):
            tiny = any(not pd.isna(v) and 0 < abs(float(v)) < 1e-3 for v in values)
            spec = formats.get(column) or (".3g" if tiny else f".{decimals_for(values)}f")
            shown[column] = [MISSING if pd.isna(v) else format(v, spec) for v in values]
    return shown


def uniform(df: pd.DataFrame, places: int | None = None) -> pd.DataFrame:
    floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
    return as_text(df, None if places is None else dict.fromkeys(floats, f".{places}f"))


def load_phrase(load: dict) -> str:
    """``env.json``'s load record in words: other processes' cores, else the load average."""
    cores, others, load_1m = load.get("cores", "?"), load.get("others_cores"), load.get("load_1m")
    average = f"{load_1m:.1f}" if isinstance(load_1m, (int, float)) else "?"
    if isinstance(others, (int, float)):
        return f"other processes kept {others:.1f} of {cores} cores busy (load average {average})"
    return f"load {average} on {cores} cores"
