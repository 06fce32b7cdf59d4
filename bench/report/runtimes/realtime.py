"""``cpu_realtime.md``: the paper's Sec. 5.4 CPU figure beside the same network's frames per
second on this run's CPU in each runtime and precision, at 1 thread and all cores."""

from __future__ import annotations

import pandas as pd

from bench.measure.latency import VALIDITY
from bench.report.runtimes.table import busy_note
from bench.report.runtimes.view import short
from bench.report.views import MISSING, SHORT_MARK, as_text

PAPER_FPS = 19.5
PAPER_SETUP = (
    "paper (GCPM Sec. 5.4): OpenVINO on an Intel Core i7-6850K, 6 cores; "
    "threads and precision not stated"
)
CV = "CV (%)"
COLUMNS = [
    *("source", "runtime", "precision", "threads", "input", "fps", "median_ms", "p10_ms"),
    *("p90_ms", CV, "samples", "validation", "reason"),
]
# One unit and precision per quantity, as in the other tables.
FORMATS = {"threads": ".0f", "fps": ".1f", CV: ".0f", "samples": ".0f"}
FORMATS |= dict.fromkeys(("median_ms", "p10_ms", "p90_ms"), ".1f")


def realtime_table(runtimes: pd.DataFrame, model: str, cpu_model: str) -> pd.DataFrame:
    """Our CPU rows of ``model`` (from the runtimes table), then the paper's row."""
    ours = runtimes[(runtimes.model == model) & (runtimes.device == "cpu")]
    ours = ours.sort_values(["threads", "runtime", "precision"], kind="stable")
    ours = ours.assign(source=f"ours ({cpu_model})", **{CV: 100 * ours.cv})
    paper = {"source": PAPER_SETUP, "runtime": "openvino", "precision": "", "threads": 6}
    paper = pd.DataFrame([{**paper, "fps": PAPER_FPS}])
    return pd.concat([ours, paper], ignore_index=True).reindex(columns=COLUMNS)


def realtime_view(table: pd.DataFrame) -> pd.DataFrame:
    """The table as text; fps of a row short of the validity rule marked, "–" for no value."""
    view = as_text(table, FORMATS).fillna(MISSING)
    marked = short(table)  # the paper's row has no median: never marked
    view["fps"] = [f"{fps}{SHORT_MARK * m}" for fps, m in zip(view.fps, marked)]
    return view


def oversubscribed(ours: pd.DataFrame) -> list[str]:
    """Rows slower than the same runtime and precision at fewer threads."""
    lines = []
    for _, rows in ours.sort_values("threads").groupby(["runtime", "precision"]):
        for fewer, more in zip(rows.itertuples(), rows.iloc[1:].itertuples()):
            if more.threads > fewer.threads and more.fps < fewer.fps:
                lines.append(
                    f"{more.runtime} {more.precision} at {int(more.threads)} threads "
                    f"({more.fps:.1f} fps) ran slower than at {int(fewer.threads)} "
                    f"({fewer.fps:.1f} fps)"
                )
    return lines


def realtime_notes(table: pd.DataFrame, model: str, env: dict) -> str:
    ours = table[table.source.str.startswith("ours") & table.fps.notna()]
    if ours.empty:
        return (
            f"{model} was not measured on the CPU in this run (it is measured when it is "
            f"among --models and a CPU runtime is selected)."
        )
    busy = busy_note(env, "these frame rates are lower")
    slower = oversubscribed(ours)
    over = (
        f"**Oversubscription:** {'; '.join(slower)}: other work on the machine or more threads "
        "than the cores can use, so more threads are not faster here. "
        if slower
        else ""
    )
    best = ours.loc[ours.fps.idxmax()]
    too_short = (
        f"`{SHORT_MARK}` fewer than {VALIDITY.min_samples} samples or under "
        f"{VALIDITY.min_duration_s:g} s timed: indicative only (the full preset times enough). "
        if any(short(ours))
        else ""
    )
    size = table.input.dropna().iloc[0] if table.input.notna().any() else "?"
    return (
        busy
        + over
        + too_short
        + (
            f"{model}, batch 1, {size}, frames per second = 1000 / median latency, measured in "
            f"this run (interleaved with the runtimes table). Fastest here: {best.runtime} "
            f"{best.precision} at {int(best.threads)} thread(s), {best.fps:.1f} fps, "
            f"{best.fps / PAPER_FPS:.2f}x the paper's {PAPER_FPS} fps. The last row is the "
            f"paper's, on another CPU: compare with care (6 cores there, the cores and precision "
            f"of each of our rows are in its columns). 'validation' is the check against eager "
            f"fp32 described in runtimes.md."
        )
    )
