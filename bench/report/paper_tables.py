"""The GCPM paper's Tables 4 and 5 (Osokin 2019, Sec. 5) from our measurements; layer shares."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from architectures import PaperFigures, list_models, model_info
from bench.measure.complexity import FLOPS_COLUMN
from bench.measure.suite import Measurements

PAPER_METRICS: dict[int, tuple[str, ...]] = {4: ("pckh", "hip"), 5: ("auc", "pckh")}
METRIC_LABELS = {"pckh": "PCKh", "hip": "Hip", "auc": "AUC"}
TABLE_TITLES = {
    n: f"Table {n} ({data}): our batch-1 latency and complexity beside the paper's figures"
    for n, data in ((4, "LIP"), (5, "MPII"))
}
TABLE_DATASETS = {4: "lip", 5: "mpii"}  # a model without a row joins the table of its dataset
USER_ROW = "user's model"  # method label of a model registered outside this package
SUITE_ROW = "(suite model, no paper row)"  # one of ours the paper's table does not list
GFLOPS = "GFLOPs (1 MAC = 1 FLOP)"


def paper_row(name: str, table: int) -> PaperFigures | None:
    return model_info(name).paper_row(table)


def joins_table(name: str, table: int) -> bool:
    """A row of the table, or a model of the table's dataset (labelled, paper columns empty)."""
    return paper_row(name, table) is not None or model_info(name).dataset == TABLE_DATASETS[table]


def method_label(name: str, table: int) -> str:
    """The paper's row label; "Ours" rows say the model is this suite's GCPM, not the author's."""
    figures = paper_row(name, table)
    if figures is None:
        return SUITE_ROW if name in list_models(module="architectures") else USER_ROW
    if figures.row.startswith("Ours"):
        return f"{figures.row} (GCPM as this suite rebuilds it)"
    return figures.row


def default_models() -> list[str]:
    rows = [n for n in list_models() if paper_row(n, 4) or paper_row(n, 5)]
    own = set(list_models(module="architectures"))
    return rows + [n for n in list_models() if n not in own and n not in rows]


def _latency_columns(latency: pd.DataFrame, name: str) -> dict:
    rows = latency[latency.model == name].set_index("mode")
    fp32 = rows.loc["fp32"]
    out = {
        "input": fp32["input"],
        "latency median (ms)": fp32.median_ms,
        "p10 (ms)": fp32.p10_ms,
        "p90 (ms)": fp32.p90_ms,
        "CV (%)": 100 * fp32.cv,
        "iters": int(fp32.iters),
    }
    for mode in rows.index.drop("fp32"):
        out[f"{mode} median (ms)"] = rows.loc[mode].median_ms
    out["throttled"] = bool(rows.throttled.any())
    out |= {c: fp32[c] for c in ("valid", "validity") if c in fp32}  # the timer's verdict
    return out


def _paper_columns(
    figures: PaperFigures | None, metrics: Sequence[str], reference: PaperFigures | None
) -> dict:
    value = {a: getattr(figures, a, None) for a in (*metrics, "time_ms", "gflops")}
    value = {a: math.nan if v is None else v for a, v in value.items()}
    ref_time = getattr(reference, "time_ms", None) or math.nan
    out = {f"{METRIC_LABELS[m]} (paper)": value[m] for m in metrics}
    out["time (ms, paper)"] = value["time_ms"]
    out["speed-up (paper)"] = ref_time / value["time_ms"]
    out["GFLOPs (paper)"] = value["gflops"]
    return out


def paper_table(table: int, m: Measurements, names: Sequence[str], reference: str) -> pd.DataFrame:
    fp32 = m.latency[m.latency["mode"] == "fp32"].set_index("model")
    ref_ms = fp32.median_ms.get(reference, math.nan)
    ref_fig = paper_row(reference, table)
    counts = m.counts.set_index("model")
    listed = [n for n in names if paper_row(n, table) is not None]
    joined = [n for n in names if n not in listed and joins_table(n, table)]
    rows = []
    for name in listed + joined:
        lat = _latency_columns(m.latency, name)
        row = {"method (paper row)": method_label(name, table), "model": name, **lat}
        row[f"speed-up vs {reference}"] = ref_ms / lat["latency median (ms)"]
        row["params (M)"] = float(counts.params_m.get(name, math.nan))
        row[GFLOPS] = float(counts.gmacs.get(name, math.nan))
        rows.append(row | _paper_columns(paper_row(name, table), PAPER_METRICS[table], ref_fig))
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["GFLOPs dev. vs paper (%)"] = 100 * (df[GFLOPS] / df["GFLOPs (paper)"].astype(float) - 1)
    if m.accuracy is not None and not m.accuracy.empty:
        df = df.merge(m.accuracy, on="model", how="left")
    return df


def complexity_frame(complexity: pd.DataFrame) -> pd.DataFrame:
    """params (M) and GFLOPs recomputed from the raw counts: views round the count, not a copy."""
    frame = complexity.copy()
    if "params" in frame:
        frame["params (M)"] = frame["params"] / 1e6
    if FLOPS_COLUMN in frame:
        frame[GFLOPS] = frame[FLOPS_COLUMN] / 1e9
    return frame


def layer_share_table(layers: pd.DataFrame) -> pd.DataFrame:
    time_pct = layers.pivot(index="layer_type", columns="model", values="time_share_pct")
    flop_pct = layers.pivot(index="layer_type", columns="model", values="flops_share_pct")
    wide = pd.concat({"time %": time_pct, "FLOPs %": flop_pct}, axis=1).swaplevel(axis=1)
    order = list(dict.fromkeys(layers.layer_type))
    wide = wide.reindex(order).sort_index(axis=1, level=0, sort_remaining=False)
    wide.columns = [f"{model} {what}" for model, what in wide.columns]
    return wide.reset_index()


def speedup_rows(tables: Mapping[int, pd.DataFrame], reference: str) -> pd.DataFrame:
    ours, paper = f"speed-up vs {reference}", "speed-up (paper)"
    rows = [
        (f"Table {table}: {r['method (paper row)']}", r["model"], r[ours], r[paper])
        for table, df in tables.items()
        for _, r in df.iterrows()
        if r["model"] != reference
    ]
    return pd.DataFrame(rows, columns=["label", "model", "ours", "paper"])
