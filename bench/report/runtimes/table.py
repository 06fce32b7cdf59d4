"""``runtimes.csv`` / ``runtimes_full.md``: one row per model, runtime, precision, threads and
device with speed-ups and efficiency, and the notes of the full table."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from bench.measure.runtimes.scoring import FAILED, PCKH_TOLERANCE, TOLERANCE_WHY
from bench.measure.runtimes.timing import ALL_MODELS, RuntimeMeasurements
from bench.report.views import load_phrase

RATE = "gflops_per_s (1 MAC = 2 FLOP)"
PEAK = "peak_gflops_per_s (1 MAC = 2 FLOP)"
GMACS = "GFLOPs (1 MAC = 1 FLOP)"
COLUMNS = [
    *("model", "runtime", "precision", "threads", "device", "input", "median_ms", "p10_ms"),
    *("p90_ms", "cv", "samples", "fps", "speedup", "vs_eager_fp32", "max_abs_diff", "rel_diff"),
    *("keypoint_agreement", "near_ties", "validation", "pckh", "auc", "delta_pckh", "accuracy"),
    *("scored_on", GMACS, RATE, PEAK, "efficiency", "prepare_s", "reason", "notes"),
]
NOISY_CV = 0.2


def _ratio_to(df: pd.DataFrame, base: pd.DataFrame, keys: list[str]) -> pd.Series:
    lookup = base.drop_duplicates(keys).set_index(keys).median_ms
    matched = lookup.reindex(pd.MultiIndex.from_frame(df[keys])).to_numpy()
    return pd.Series(matched, index=df.index) / df.median_ms


def efficiency(gmacs: float, median_ms: float, peak_gflops_per_s: float) -> tuple[float, float]:
    """(achieved GFLOP/s at 2 FLOPs per MAC, share of the peak) for one batch-1 inference."""
    rate = 2 * gmacs / (median_ms / 1e3)
    return rate, rate / peak_gflops_per_s


def runtimes_table(m: RuntimeMeasurements, counts: pd.DataFrame, reference: str) -> pd.DataFrame:
    """The measured frame with speed-ups, frames per second, FLOP rate and efficiency."""
    df = m.frame.copy()
    df["fps"] = 1e3 / df.median_ms
    same = ["runtime", "precision", "threads", "device"]
    df["speedup"] = _ratio_to(df, df[df.model == reference], same)
    eager = df[(df.runtime == "eager") & (df.precision == "fp32")]
    df["vs_eager_fp32"] = _ratio_to(df, eager, ["model", "threads", "device"])
    df[GMACS] = df.model.map(counts.set_index("model").gmacs).astype(float)
    peaks = m.peaks[["device", "precision", "threads", "peak_gflops_per_s"]]
    df = df.merge(peaks.rename(columns={"peak_gflops_per_s": PEAK}), how="left")
    df.loc[df.median_ms.isna(), PEAK] = float("nan")  # a row not timed has no peak to compare
    df[RATE], df["efficiency"] = efficiency(df[GMACS], df.median_ms, df[PEAK])
    return df.reindex(columns=COLUMNS)  # the score columns are NaN where nothing was scored


def main_rows(df: pd.DataFrame, device: str) -> pd.DataFrame:
    """Timed rows on the run's device at its largest thread count (not the 1-thread extras)."""
    rows = df[(df.device == device) & df.median_ms.notna() & (df.model != ALL_MODELS)]
    return rows[rows.threads == rows.threads.max()] if not rows.empty else rows


def bullets(title: str, lines: Sequence[str]) -> str:
    return title + "\n" + "\n".join(f"- {line}" for line in lines) if lines else ""


def is_scored(df: pd.DataFrame) -> bool:
    """Whether any row of the table carries a validation-split PCKh."""
    return "pckh" in df and bool(pd.to_numeric(df.pckh, errors="coerce").notna().any())


def scoring_notes(df: pd.DataFrame) -> str:
    """The pass rule with its tolerances and reasons, or how the rows were checked without it."""
    if not is_scored(df):
        return (
            "Accuracy: not scored in this run (no trained checkpoints and data root given); "
            "'random-input check' compares each converted network with eager fp32 on one seeded "
            "random input only, which says a conversion is not broken, not that it keeps PCKh."
        )
    tolerances = "; ".join(f"{p} {t:g} ({TOLERANCE_WHY[p]})" for p, t in PCKH_TOLERANCE.items())
    scored = df[pd.to_numeric(df.pckh, errors="coerce").notna()]
    failed = df.accuracy.astype(str).str.startswith(FAILED).sum()
    where = "; ".join(dict.fromkeys(scored.scored_on.astype(str)))
    return (
        f"Accuracy: every row of a model with a trained checkpoint ran the validation split "
        f"({where}; single scale, batch 1, the PCKh protocol of bench.evaluate) through the "
        f"runtime's prepared network. ΔPCKh = the row's PCKh - the same model's eager fp32 PCKh. "
        f"One-sided pass rule: a row passes when PCKh >= eager fp32 PCKh - tolerance; tolerances "
        f"in PCKh points: {tolerances}. Rows that fail stay in the table, marked FAILED "
        f"({failed} in this run)."
    )


def int8_notes(df: pd.DataFrame) -> list[str]:
    """One line per int8 model and runtime: what the runtime reports it ran, its calibration."""
    notes = df.notes.astype(object).fillna("").astype(str)
    rows = df.assign(notes=notes)[(df.precision == "int8") & notes.ne("")]
    rows = rows.drop_duplicates(["model", "runtime"])
    return [f"{r.model} {r.runtime} int8: {r.notes}" for r in rows.itertuples()]


def _best_rows(df: pd.DataFrame) -> list[str]:
    """Per model, the fastest row that passed its checks (the accuracy rule where scored)."""
    # a scored row is judged on the data; the random-input check only stands in where none was
    verdict = df.accuracy.astype(object).fillna("").astype(str)
    ok = df[verdict.eq("pass") | (verdict.eq("") & df.validation.eq("ok"))]
    lines = []
    for model, rows in ok.groupby("model", sort=False):
        best = rows.loc[rows.median_ms.idxmin()]
        vs = f" ({best.vs_eager_fp32:.1f}x eager fp32)" if pd.notna(best.vs_eager_fp32) else ""
        lines.append(
            f"{model}: {best.runtime} {best.precision} {best.median_ms:.1f} ms{vs}, efficiency "
            f"{100 * best.efficiency:.1f} % of the {best.precision} matmul peak"
        )
    return lines


def _rankings(df: pd.DataFrame) -> list[str]:
    """Models from fastest to slowest in each runtime and precision, against eager fp32's."""
    order = {
        key: list(g.sort_values("median_ms").model)
        for key, g in df.groupby(["runtime", "precision"], sort=False)
    }
    eager = order.get(("eager", "fp32"), [])
    lines = []
    for (runtime, precision), models in order.items():
        common = [n for n in eager if n in models]
        moved = ""
        if (runtime, precision) != ("eager", "fp32") and len(common) >= 2:
            same = [n for n in models if n in common] == common
            moved = f" ({'same order as' if same else 'order differs from'} eager fp32)"
        lines.append(f"{runtime} {precision}: {' < '.join(models)}{moved}")
    return lines


def _reference_speedups(df: pd.DataFrame, reference: str, models: Sequence[str]) -> list[str]:
    rows = df[df.model.isin(models) & df.speedup.notna()]
    return [
        f"{model} vs {reference}: "
        + ", ".join(f"{r.runtime} {r.precision} {r.speedup:.2f}" for r in g.itertuples())
        for model, g in rows.groupby("model", sort=False)
    ]


def busy_note(env: dict, effect: str) -> str:
    """The busy-machine warning (``bench.measure.load``) ending in ``effect``, or nothing."""
    load = env.get("load") or {}
    if not load.get("busy"):
        return ""
    where = load_phrase(load)
    return f"**Busy machine:** {where} when the run started; {effect} than on an idle machine. "


def _left_out_models(m: RuntimeMeasurements) -> str:
    if not m.left_out_models:
        return ""
    return (
        f"Not timed in these runtimes: {', '.join(m.left_out_models)}. The quick preset times "
        "the real-time networks, models with a checkpoint and models of --models-from; name the "
        "runtimes (--runtimes) or the models (--models) to time every model."
    )


def _conditions(m: RuntimeMeasurements, env: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in m.versions.items())
    busy = busy_note(env, "latencies are slower and noisier")
    return busy + (
        f"Measured on {env.get('device', '?')} (CPU {env.get('cpu_model', '?')}), torch "
        f"{env.get('torch', '?')} ({versions}), batch 1, each model at its own input size; "
        f"{m.preset.description}. Timing: the harness's timer, rows interleaved over "
        f"{m.preset.rounds} rounds; preparation (export, conversion, compilation: prepare_s) "
        f"and validation before the first round, outside the timed region."
    )


_VALIDATION_RULES = (
    "Random-input check ('validation'): each converted network against eager fp32 on the same "
    "seeded random input: max_abs_diff and rel_diff (over the largest eager value) of the final "
    "heatmaps, keypoint_agreement (decoded keypoints within one heatmap cell) and near_ties (the "
    "others within the precision's tolerance of eager's maximum: untrained networks' flat maps); "
    "tolerances per precision in bench/measure/runtimes/scoring.py (loose for int8: a random input "
    "lies outside the calibrated ranges). Rows that fail stay here, marked FAILED. Failed rows in "
    "this run: {failed}."
)
_DEFINITIONS = (
    "speedup = latency of {reference} / the row's, in the same runtime, precision, threads and "
    "device (NaN where the reference was not measured that way); vs_eager_fp32 = the same "
    "model's eager fp32 latency / the row's. Efficiency = achieved FLOP rate / the matmul peak "
    "in the row's precision and threads measured in this run, both at 2 FLOPs per multiply-add "
    "(the GFLOPs column is the paper's 1 MAC = 1 FLOP count). The bf16 peak is torch's bf16 "
    "matmul; a runtime with better kernels can come close to it or pass it.\n\n"
    "Rows with model '(all models)' are runtimes not measured at all, with the reason."
)
INT8_PEAK_NOTE = (
    "The int8 peak is ONNX Runtime's int8 GEMM (MatMulInteger, uint8 x int8) on this CPU, measured "
    "in this run: torch has no int8 matmul on a CPU. OpenVINO's int8 kernels are compared with it."
)


def _noisy(measured: pd.DataFrame) -> str:
    noisy = measured[measured.cv > NOISY_CV]
    listed = ", ".join(
        f"{r.model} {r.runtime} {r.precision} {r.threads}t ({100 * r.cv:.0f} %)"
        for r in noisy.itertuples()
    )
    return (
        f"**Noisy measurement:** CV above {100 * NOISY_CV:.0f} % for {listed}; the machine was "
        "probably busy."
        if listed
        else ""
    )


def runtimes_notes(
    df: pd.DataFrame, m: RuntimeMeasurements, env: dict, reference: str, full: bool = True
) -> str:
    """Markdown notes; ``full`` (runtimes_full.md) adds the noisy rows and column definitions."""
    measured = df[df.model != ALL_MODELS]
    main = main_rows(df, m.device)
    threads = int(main.threads.max()) if not main.empty else 0
    failed = measured.validation.astype(str).str.startswith(FAILED).sum()
    gcpm = [n for n in ("gcpm-ushaped", "gcpm-ushaped-2stage") if n in set(measured.model)]
    on = f"({m.device}, {threads} threads)"
    parts = [
        _noisy(measured) if full else "",
        _conditions(m, env),
        _left_out_models(m),
        _VALIDATION_RULES.format(failed=failed),
        scoring_notes(measured),
        bullets("What the int8 rows ran:", int8_notes(measured)),
        INT8_PEAK_NOTE if (measured.precision == "int8").any() else "",
        _DEFINITIONS.format(reference=reference) if full else "",
        bullets(f"Best validated runtime per model {on}:", _best_rows(main)),
        bullets(f"Ranking, fastest first {on}:", _rankings(main)),
        bullets(
            f"Speed-up over {reference} by runtime:", _reference_speedups(main, reference, gcpm)
        ),
    ]
    return "\n\n".join(p for p in parts if p)
