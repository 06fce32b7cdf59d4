"""The notes under each table of ``bench.tables``: paragraphs separated by blank lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from architectures import model_info
from bench.measure.suite import NOT_SCORED
from bench.report import views
from bench.report.paper_tables import joins_table, method_label, paper_row

NOISY_CV = 0.2  # above this, the median of a short run says little; the notes warn
PAPER_DEVICE = "GTX 1080 Ti, PyTorch 1.0, batch 1"
GFLOPS_NOTE = "GFLOPs follow the paper's convention (fvcore: one multiply-add = one FLOP)."
LATENCY_LEGEND = (
    "Latency: median of the timed samples, p10-p90 in brackets, CV in %; "
    f"{views.NOISY_MARK} marks a CV above {100 * NOISY_CV:.0f} % or a GPU that reported power or "
    f"thermal clock limits, {views.SHORT_MARK} a timing with fewer samples or less time than a "
    "valid one needs (column 'validity' of latency.csv says which)."
)


def busy(env: Mapping) -> bool:
    return bool(env.get("load", {}).get("busy"))


def busy_warning(env: Mapping) -> str:
    if not busy(env):
        return ""
    return (
        f"**Busy machine:** {views.load_phrase(env['load'])} when timing began; latencies are "
        "slower and noisier than on an idle machine. Rerun when it is idle."
    )


def noise_warning(latency: pd.DataFrame) -> str:
    noisy = latency[(latency["mode"] == "fp32") & (latency.cv > NOISY_CV)]
    if noisy.empty:
        return ""
    listed = ", ".join(f"{r.model} ({100 * r.cv:.0f} %)" for r in noisy.itertuples())
    return (
        f"**Noisy measurement:** fp32 CV above {100 * NOISY_CV:.0f} % for {listed} "
        f"(marked {views.NOISY_MARK}). Speed-ups from these rows are unreliable. Rerun on an idle "
        "machine or with more --iters."
    )


def measured_on(env: Mapping) -> str:
    gpu = env["gpu"].get("name") or "no GPU"
    return (
        f"Measured on {env['device']} ({gpu}; CPU {env['cpu_model']}, {env['torch_threads']} "
        f"threads), torch {env['torch']}, batch 1, fp32 eager unless the column names a mode "
        f"(modes measured: {', '.join(env['timing']['modes'])})."
    )


def _joined(*paragraphs: str) -> str:
    return "\n\n".join(p for p in paragraphs if p)


def latency_notes(env: Mapping, latency: pd.DataFrame) -> str:
    return _joined(busy_warning(env), noise_warning(latency), measured_on(env), LATENCY_LEGEND)


def paper_table_notes(
    env: Mapping, latency: pd.DataFrame, table: int, names: Sequence[str], reference: str
) -> str:
    comparison = (
        f"Speed-up = latency of {reference} / latency of the row, both measured in this run. "
        f"Columns marked (paper) are copied from the GCPM paper ({PAPER_DEVICE}); compare "
        f"speed-ups, not milliseconds, across machines. {GFLOPS_NOTE}"
    )
    rows = [f"- {n}: {fig.source}" for n in names if (fig := paper_row(n, table)) is not None]
    rows += [
        f"- {n}: {method_label(n, table)} ({model_info(n).dataset}); no paper figures"
        for n in names
        if paper_row(n, table) is None and joins_table(n, table)
    ]
    sources = "Rows, as the registry records them:\n" + "\n".join(rows) if rows else ""
    return _joined(latency_notes(env, latency), comparison, sources)


def unscored_note(table: pd.DataFrame) -> str:
    """The checkpoints of ``table``'s rows that a fault in the data left without figures."""
    if NOT_SCORED not in table:
        return ""
    why = table.dropna(subset=[NOT_SCORED])
    listed = "\n".join(f"- {r.model}: {r[NOT_SCORED]}" for _, r in why.iterrows())
    return f"\n\nNot scored (timed all the same):\n{listed}" if listed else ""


def layer_notes(env: Mapping, layers: pd.DataFrame) -> str:
    lines = ["Shares add up to 100 % per model (time over profiled op time)."]
    if "coverage_pct" in layers:
        coverage = layers.groupby("model", sort=False).coverage_pct.first()
        shares = ", ".join(f"{n} {v:.0f} %" for n, v in coverage.items())
        lines.append(f"Profiled op time as a share of the fp32 median latency: {shares}.")
    if "flops_counted" in layers:
        partial = layers[layers.flops_counted.isin(["no", "partly"])]
        groups = partial.groupby(["layer_type", "flops_counted"], sort=False).model
        listed = "; ".join(
            f"{kind} {status} ({'every model' if set(ms) == set(layers.model) else ', '.join(ms)})"
            for (kind, status), ms in groups
        )
        if listed:
            lines.append(f"FLOPs fvcore counts not or only partly: {listed}.")
    return _joined(busy_warning(env), measured_on(env), " ".join(lines))


def summary_line(count: int, out: str, env: Mapping) -> str:
    warning = " The machine was busy while timing: latencies are slower and noisier."
    return f"wrote {count} files to {out}; open {out}/index.html.{warning * busy(env)}"
