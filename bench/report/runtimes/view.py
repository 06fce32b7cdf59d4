"""``runtimes.md``: the headline view of the runtimes table, one row per model and runtime.

What a user choosing a network and a runtime reads first: each model's median latency with its
p10-p90 spread in each runtime, its speed-up over its own eager fp32 and over the reference in
the same runtime, the random-input check, the efficiency, and where trained checkpoints were
scored, PCKh, ΔPCKh against eager fp32 and the pass rule's verdict. Rows are grouped by model. Every
column of ``runtimes.csv`` is in ``runtimes_full.md``; the marks are explained under the table,
with the rows behind each.
"""

from __future__ import annotations

import pandas as pd

from bench.measure.latency import VALIDITY
from bench.measure.runtimes.peak import PEAK_SIZE
from bench.measure.runtimes.timing import ALL_MODELS
from bench.report import views as headline
from bench.report.runtimes.accuracy import is_scored
from bench.report.runtimes.table import NOISY_CV, bullets

FAILED = "FAILED"
LATENCY = "median ms (p10–p90)"
VS_EAGER = "× eager fp32"
EFFICIENCY = "efficiency %"
CHECK = "random-input check"
PCKH, DELTA, VERDICT = "PCKh", "ΔPCKh", "accuracy"


def vs_reference(reference: str) -> str:
    return f"× {reference}"


def short(df: pd.DataFrame) -> list[bool]:
    """Timed rows that miss bench.measure.latency's validity rule (64 samples, 1 s). The runtimes
    frame
    keeps no timing window, so samples x median stands for the time timed."""
    return [
        pd.notna(ms) and bool(VALIDITY.check(int(n), n * ms / 1e3))
        for n, ms in zip(df.samples, df.median_ms)
    ]


def _grouped(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows by model (in the run's order), the model's all-core rows on the run's device before
    its extras (the 1-thread cpu_realtime rows), runtimes in the run's order."""
    order = {name: i for i, name in enumerate(dict.fromkeys(rows.model))}
    extra = (rows.threads != rows.threads.max()) | (rows.device != rows.device.mode().iloc[0])
    keys = pd.DataFrame({"model": rows.model.map(order), "extra": extra}, index=rows.index)
    return rows.loc[keys.sort_values(["model", "extra"], kind="stable").index]


def _device_or_threads(rows: pd.DataFrame) -> dict[str, list[str]]:
    threads = {"threads": [str(int(t)) for t in rows.threads]}
    if rows.device.nunique() > 1:  # a GPU run's CPU rows for cpu_realtime.md
        return {"device": list(rows.device), **threads}
    return threads


def runtimes_view(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """The compact view of :func:`bench.report.runtimes.table.runtimes_table`'s frame (or of
    ``runtimes.csv`` read back): runtimes not run at all are left to :func:`view_notes`."""
    rows = table[table.model != ALL_MODELS]
    if rows.empty:  # every runtime asked for was unavailable: the notes say why
        return pd.DataFrame()
    rows = _grouped(rows)
    timed = rows.median_ms.notna()
    return pd.DataFrame(
        {
            "model": list(rows.model),
            "runtime": list(rows.runtime + " " + rows.precision),
            **_device_or_threads(rows),
            LATENCY: [
                cell if t else headline.MISSING
                for cell, t in zip(
                    headline.latency_cells(
                        rows.median_ms, rows.p10_ms, rows.p90_ms, rows.cv > NOISY_CV, short(rows)
                    ),
                    timed,
                )
            ],
            VS_EAGER: [headline.number(v, 2) for v in rows.vs_eager_fp32],
            vs_reference(reference): [headline.number(v, 2) for v in rows.speedup],
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
    verdicts = rows.accuracy.fillna("").astype(str)
    return {
        PCKH: [headline.number(v, 1) for v in rows.pckh],
        DELTA: [headline.MISSING if pd.isna(v) else f"{float(v):+.2f}" for v in rows.delta_pckh],
        VERDICT: [FAILED if v.startswith(FAILED) else v for v in verdicts],
    }


def _setup(row) -> str:
    threads = f"{row.threads} thread{'s' if row.threads != 1 else ''}"
    return f"{row.model} {row.runtime} {row.precision} ({threads}, {row.device})"


def view_notes(table: pd.DataFrame, reference: str) -> str:
    """What each column and mark of :func:`runtimes_view` means, with the rows behind each."""
    measured = table[table.model != ALL_MODELS]
    timed = measured[measured.median_ms.notna()]
    noisy = timed[timed.cv > NOISY_CV]
    too_short = timed[short(timed)]
    failed = measured[measured.validation.astype(str).str.startswith(FAILED)]
    untimed = measured[measured.median_ms.isna()]
    verdicts = measured.get("accuracy", pd.Series("", index=measured.index)).astype(str)
    lost = list(measured[verdicts.str.startswith(FAILED)].itertuples())
    not_run = table[table.model == ALL_MODELS]
    by_reason = not_run.groupby("reason", sort=False)
    parts = [
        (
            f"Columns: {LATENCY}: batch-1 latency in milliseconds, median of the timed samples "
            f"with the 10th-90th percentile spread; {VS_EAGER}: speed-up, the same model's eager "
            f"fp32 median (same threads and device) over the row's; {vs_reference(reference)}: "
            f"speed-up, {reference}'s median in the same runtime, precision, threads and device "
            f"over the row's ({headline.MISSING} where {reference} was not measured that way); "
            f"{CHECK}: the converted network against eager fp32 on one random input (rules "
            f"below); "
            f"{EFFICIENCY}: achieved FLOP rate as a percentage of the matmul peak measured in "
            f"this run in the row's precision and threads (torch's {PEAK_SIZE}^3 matmul, not a "
            f"datasheet figure: a runtime whose kernels beat torch's can pass 100 %). Every "
            f"column, with the raw "
            f"validation figures, FLOP rates and preparation times: runtimes_full.md and "
            f"runtimes.csv."
        ),
        (
            f"`{headline.NOISY_MARK}` CV above {100 * NOISY_CV:.0f} %: "
            + ", ".join(f"{_setup(r)} {100 * r.cv:.0f} %" for r in noisy.itertuples())
            + "."
            if not noisy.empty
            else ""
        ),
        (
            f"`{headline.SHORT_MARK}` fewer than {VALIDITY.min_samples} samples or under "
            f"{VALIDITY.min_duration_s:g} s of timing (samples x median): the spread is "
            f"indicative only; {len(too_short)} of {len(timed)} timed rows."
            if not too_short.empty
            else ""
        ),
        bullets(
            f"`{FAILED}`: outside the precision's tolerance against eager fp32, kept and timed:",
            [
                f"{_setup(r)}: {r.validation.removeprefix(FAILED + ': ')}"
                for r in failed.itertuples()
            ],
        ),
        bullets(
            f"`{FAILED}` in {VERDICT}: PCKh below eager fp32's minus the tolerance, kept:",
            [f"{_setup(r)}: {str(r.accuracy).removeprefix(FAILED + ': ')}" for r in lost],
        ),
        bullets(
            f"`{headline.MISSING}` not timed:",
            [f"{_setup(r)}: {r.reason}" for r in untimed.itertuples()],
        ),
        bullets(
            "Runtimes not run at all:",
            [f"{', '.join(g.runtime + ' ' + g.precision)}: {reason}" for reason, g in by_reason],
        ),
    ]
    return "\n\n".join(p for p in parts if p)
