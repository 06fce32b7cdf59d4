"""``runtimes.md``: the headline view of the runtimes table and the notes on its columns/marks."""

from __future__ import annotations

import pandas as pd

from bench.measure.latency import VALIDITY
from bench.measure.runtimes.peak import PEAK_SIZE
from bench.measure.runtimes.timing import ALL_MODELS
from bench.report import views as headline
from bench.report.runtimes.table import FAILED, NOISY_CV, bullets, is_scored

LATENCY = "median ms (p10–p90)"
VS_EAGER = "× eager fp32"
EFFICIENCY = "efficiency %"
CHECK = "random-input check"
PCKH, DELTA, VERDICT = "PCKh", "ΔPCKh", "accuracy"


def short(df: pd.DataFrame) -> list[bool]:
    """Timed rows that miss bench.measure.latency's validity rule (samples x median as time)."""
    return [
        pd.notna(ms) and bool(VALIDITY.check(int(n), n * ms / 1e3))
        for n, ms in zip(df.samples, df.median_ms)
    ]


def _grouped(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows by model in run order, each model's all-core rows before its cpu_realtime extras."""
    order = {name: i for i, name in enumerate(dict.fromkeys(rows.model))}
    extra = (rows.threads != rows.threads.max()) | (rows.device != rows.device.mode().iloc[0])
    keys = pd.DataFrame({"model": rows.model.map(order), "extra": extra}, index=rows.index)
    return rows.loc[keys.sort_values(["model", "extra"], kind="stable").index]


def runtimes_view(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """The compact view of :func:`runtimes_table`'s frame (or ``runtimes.csv`` read back)."""
    rows = table[table.model != ALL_MODELS]
    if rows.empty:  # every runtime asked for was unavailable: the notes say why
        return pd.DataFrame()
    rows = _grouped(rows)
    timed = rows.median_ms.notna()
    cells = headline.latency_cells(
        rows.median_ms, rows.p10_ms, rows.p90_ms, rows.cv > NOISY_CV, short(rows)
    )
    where = {"device": list(rows.device)} if rows.device.nunique() > 1 else {}  # cpu_realtime rows
    return pd.DataFrame(
        {
            "model": list(rows.model),
            "runtime": list(rows.runtime + " " + rows.precision),
            **where,
            "threads": [str(int(t)) for t in rows.threads],
            LATENCY: [cell if t else headline.MISSING for cell, t in zip(cells, timed)],
            VS_EAGER: [headline.number(v, 2) for v in rows.vs_eager_fp32],
            **(
                {f"× {reference}": [headline.number(v, 2) for v in rows.speedup]}
                if rows.speedup.notna().any()  # the reference timed in some runtime
                else {}
            ),
            CHECK: [
                FAILED if str(v).startswith(FAILED) else "ok" if ok else ""
                for v, ok in zip(rows.validation, timed)
            ],
            EFFICIENCY: [headline.number(100 * v, 1) for v in rows.efficiency],
            **(_scored_columns(rows) if is_scored(rows) else {}),
        }
    )


def _scored_columns(rows: pd.DataFrame) -> dict[str, list[str]]:
    """PCKh, ΔPCKh (signed) and the verdict of scored rows; blank for models not scored."""
    verdicts = rows.accuracy.astype(object).fillna("").astype(str)
    return {
        PCKH: [headline.number(v, 1) for v in rows.pckh],
        DELTA: [headline.MISSING if pd.isna(v) else f"{float(v):+.2f}" for v in rows.delta_pckh],
        VERDICT: [FAILED if v.startswith(FAILED) else v for v in verdicts],
    }


def _setup(row) -> str:
    threads = f"{row.threads} thread{'s' if row.threads != 1 else ''}"
    return f"{row.model} {row.runtime} {row.precision} ({threads}, {row.device})"


def _columns_note(reference: str, with_reference: bool) -> str:
    versus = (
        f"× {reference}: speed-up, {reference}'s median in the same runtime, precision, threads "
        f"and device over the row's ({headline.MISSING} where {reference} was not measured that "
        "way); "
    )
    return (
        f"Columns: {LATENCY}: batch-1 latency in milliseconds, median of the timed samples with "
        f"the 10th-90th percentile spread; {VS_EAGER}: speed-up, the same model's eager fp32 "
        f"median (same threads and device) over the row's; {versus if with_reference else ''}"
        f"{CHECK}: the "
        f"converted network against eager fp32 on one random input (rules below); {EFFICIENCY}: "
        f"achieved FLOP rate as a percentage of the matmul peak measured in this run in the row's "
        f"precision and threads (torch's {PEAK_SIZE}^3 matmul, not a datasheet figure: a runtime "
        f"whose kernels beat torch's can pass 100 %). Every column, with the raw validation "
        f"figures, FLOP rates and preparation times: runtimes_full.md and runtimes.csv."
    )


def view_notes(table: pd.DataFrame, reference: str) -> str:
    measured = table[table.model != ALL_MODELS]
    timed = measured[measured.median_ms.notna()]
    noisy = ", ".join(
        f"{_setup(r)} {100 * r.cv:.0f} %" for r in timed[timed.cv > NOISY_CV].itertuples()
    )
    too_short = timed[short(timed)]
    verdicts = measured.get("accuracy", pd.Series("", index=measured.index)).astype(str)

    def failing(column: pd.Series) -> list[str]:
        rows = measured[column.astype(str).str.startswith(FAILED)]
        return [
            f"{_setup(r)}: {str(v).removeprefix(FAILED + ': ')}"
            for r, v in zip(rows.itertuples(), column[rows.index])
        ]

    not_run = table[table.model == ALL_MODELS].groupby("reason", sort=False)
    parts = [
        _columns_note(reference, measured.speedup.notna().any()),
        f"`{headline.NOISY_MARK}` CV above {100 * NOISY_CV:.0f} %: {noisy}." if noisy else "",
        (
            f"`{headline.SHORT_MARK}` fewer than {VALIDITY.min_samples} samples or under "
            f"{VALIDITY.min_duration_s:g} s of timing (samples x median): the spread is "
            f"indicative only; {len(too_short)} of {len(timed)} timed rows."
            if not too_short.empty
            else ""
        ),
        bullets(
            f"`{FAILED}`: outside the precision's tolerance against eager fp32, kept and timed:",
            failing(measured.validation),
        ),
        bullets(
            f"`{FAILED}` in {VERDICT}: PCKh below eager fp32's minus the tolerance, kept:",
            failing(verdicts),
        ),
        bullets(
            f"`{headline.MISSING}` not timed:",
            [f"{_setup(r)}: {r.reason}" for r in measured[measured.median_ms.isna()].itertuples()],
        ),
        bullets(
            "Runtimes not run at all:",
            [f"{', '.join(g.runtime + ' ' + g.precision)}: {reason}" for reason, g in not_run],
        ),
    ]
    return "\n\n".join(p for p in parts if p)
