"""The accuracy side of the runtimes table: which rows were scored, the pass rule's notes, and
what each int8 row ran (kernels, calibration data), in the words of the measurement."""

from __future__ import annotations

import pandas as pd

from bench.measure.runtimes.scoring import PCKH_TOLERANCE

SCORED_COLUMNS = ["pckh", "auc", "delta_pckh", "accuracy", "scored_on"]
_WHY = {
    "fp32": "reordered float sums may move a near-tied peak on about one joint in a thousand",
    "bf16": "8-bit mantissa: peaks within 0.4 % of the maximum may swap",
    "fp16": "11-bit mantissa, rounding added up over tens of layers",
    "int8": "8-bit activations and weights: the usual accepted loss of post-training quantization",
}


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
    tolerances = "; ".join(f"{p} {t:g} ({_WHY[p]})" for p, t in PCKH_TOLERANCE.items())
    scored = df[pd.to_numeric(df.pckh, errors="coerce").notna()]
    failed = df[df.accuracy.astype(str).str.startswith("FAILED")]
    where = "; ".join(dict.fromkeys(scored.scored_on.astype(str)))
    return (
        f"Accuracy: every row of a model with a trained checkpoint ran the validation split "
        f"({where}; single scale, batch 1, the PCKh protocol of bench.evaluate) through the "
        f"runtime's prepared network. ΔPCKh = the row's PCKh - the same model's eager fp32 PCKh. "
        f"One-sided pass rule: a row passes when PCKh >= eager fp32 PCKh - tolerance; tolerances "
        f"in PCKh points: {tolerances}. Rows that fail stay in the table, marked FAILED "
        f"({len(failed)} in this run)."
    )


def int8_notes(df: pd.DataFrame) -> list[str]:
    """One line per int8 row: what the runtime reports it ran and its calibration."""
    notes = df.notes.astype(object).where(df.notes.notna(), "")
    rows = df.assign(notes=notes)[(df.precision == "int8") & notes.astype(str).ne("")]
    rows = rows.drop_duplicates(["model", "runtime"])
    return [f"{r.model} {r.runtime} int8: {r.notes}" for r in rows.itertuples()]


INT8_PEAK_NOTE = (
    "The int8 peak is ONNX Runtime's int8 GEMM (MatMulInteger, uint8 x int8) on this CPU, measured "
    "in this run: torch has no int8 matmul on a CPU. OpenVINO's int8 kernels are compared with it."
)
