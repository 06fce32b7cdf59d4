"""``python -m bench.tables``: the GCPM paper's Tables 3-5 beside latency measured on this machine.

Osokin 2019 (arXiv 1906.04104), Sec. 5: Table 3 (context-module complexity), Table 4 (LIP test:
GCPM vs the hourglass networks of Chou et al. and Nie et al.) and Table 5 (MPII test: Newell's
8-stack hourglass, Zhang et al.'s FPD, Wei et al.'s CPM, GCPM). Every latency, parameter and FLOP
figure is measured in this run; accuracy and 1080 Ti times are the paper's, labelled "(paper)".
Speed-ups are relative to the reference model (``hourglass-8stack``) measured in the same run,
with the paper's own speed-up beside them.

Every option, the output folder, device, checkpoints and data root are checked before anything is
measured. Everything is computed first, then written as one set (:mod:`bench.report.publish`):
staged, swapped in together, ``manifest.json`` last, so an interrupted or failing run leaves the
previous results intact and outputs an earlier run wrote but this one does not are removed.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from architectures import PaperFigures, list_models, model_info
from architectures.errors import (
    ArgumentParser,
    InputFileError,
    UsageError,
    check_range,
    error_boundary,
)
from architectures.registry import build_at_size
from bench.accuracy.training.checkpoint import load_checkpoint
from bench.accuracy.training.model import check_made_for, load_weights
from bench.evaluate import evaluate_checkpoint
from bench.measure.complexity import GFLOPS_COLUMN, complexity_table
from bench.measure.devices import resolve_device as _resolve_device
from bench.measure.environment import environment_record
from bench.measure.latency import MODES, TimingConfig, benchmark_models
from bench.measure.layer_profile import ProfileConfig, profile_models
from bench.measure.runtimes import list_runtimes
from bench.measure.runtimes.timing import for_tables, runtime_spec
from bench.measure.table3 import table3
from bench.report import files as io
from bench.report import html as report_html
from bench.report import plots
from bench.report import publish as result_set
from bench.report import views as headline
from bench.report.runtimes.outputs import OUTPUT_NAMES as RUNTIME_OUTPUTS
from bench.report.runtimes.outputs import runtime_outputs, runtimes_report
from datasets import AnnotationError, open_reader

REFERENCE = "hourglass-8stack"
PAPER_METRICS: dict[int, tuple[str, ...]] = {4: ("pckh", "hip"), 5: ("auc", "pckh")}
METRIC_LABELS = {"pckh": "PCKh", "hip": "Hip", "auc": "AUC"}
TABLE_TITLES = {
    4: "Table 4 (LIP): our batch-1 latency and complexity beside the paper's figures",
    5: "Table 5 (MPII): our batch-1 latency and complexity beside the paper's figures",
}
PAPER_DEVICE = "GTX 1080 Ti, PyTorch 1.0, batch 1"


@dataclass(frozen=True)
class Presets:
    """Timing for the fp32 column, the other modes, and the layer profile."""

    fp32: TimingConfig
    modes: TimingConfig
    profile: ProfileConfig
    mode_names: tuple[str, ...] = MODES
    rounds: int = 3  # models interleaved: a change in machine load hits them all alike


# bf16 / fp16 autocast ran 13-15x slower than fp32 on the 2-core AMD EPYC CPU this suite was
# built on (no native bf16/fp16 units), so a quick run leaves them out unless --modes names them.
# The probing forward of every mode doubles as a warm-up, hence warmup=0 for the other modes.
# Quick: about 2-3 minutes on an idle 2-core CPU; ~20 fp32 samples per model over the rounds, fewer
# (9 on that CPU) for the 368x368 CPM, whose rounds hit the time cap first.
QUICK = Presets(
    TimingConfig(warmup=2, iters=20, max_time_s=10.0),
    TimingConfig(warmup=0, iters=4, max_time_s=3.0),
    ProfileConfig(warmup=1, iters=1),
    ("fp32", "channels_last"),
    rounds=3,
)
# Full: the other modes get 1 s too, the minimum for a valid row
# (bench.measure.latency.ValidityRule).
FULL = Presets(
    TimingConfig(warmup=20, iters=200, min_time_s=2.0),
    TimingConfig(warmup=10, iters=100, min_time_s=1.0),
    ProfileConfig(warmup=5, iters=20),
    rounds=5,
)
# --iters has no time cap, so it is bounded: 10^4 fp32 forwards of the slowest model (CPM, 0.69 s
# median on 2 CPU cores in results/latency.csv) take ~2 h for that model alone; on a GPU ~5 min.
MAX_ITERS = 10_000


@dataclass(frozen=True)
class TablesConfig:
    device: str = "auto"
    models: tuple[str, ...] = ()  # empty: every model with a Table 4 or Table 5 row
    reference: str = REFERENCE
    out: Path = Path("results")
    speed: str = "auto"  # "quick", "full", or "auto": full on a GPU, quick on a CPU
    iters: int | None = None
    modes: tuple[str, ...] = ()  # empty: the preset's (quick on a CPU skips bf16 / fp16)
    profile: bool = True
    checkpoints: tuple[tuple[str, Path], ...] = ()
    data_root: Path | None = None
    progress: bool = True
    runtimes: tuple[
        str, ...
    ] = ()  # bench.measure.runtimes specs; empty: every one available; ("none",)


@dataclass
class Measurements:
    env: dict
    latency: pd.DataFrame
    counts: pd.DataFrame
    complexity: pd.DataFrame
    table3: pd.DataFrame
    layers: pd.DataFrame | None = None
    accuracy: pd.DataFrame | None = None
    notes: dict = field(default_factory=dict)
    runtimes: object | None = None  # bench.measure.runtimes.timing.RuntimeMeasurements


# ---------------------------------------------------------------- paper rows (registry facts)

TABLE_DATASETS = {4: "lip", 5: "mpii"}  # a model without a row joins the table of its dataset
USER_ROW = "user's model"  # method label of a model registered outside this package
SUITE_ROW = "(suite model, no paper row)"  # one of ours the paper's table does not list


def paper_row(name: str, table: int) -> PaperFigures | None:
    """The model's row of GCPM Table ``table``, or ``None``."""
    return model_info(name).paper_row(table)


def user_models() -> list[str]:
    """Models registered outside this package (a user's own), in name order."""
    own = set(list_models(module="architectures"))
    return [n for n in list_models() if n not in own]


def joins_table(name: str, table: int) -> bool:
    """A row of the table, or a model of the table's dataset (labelled, paper columns empty)."""
    return paper_row(name, table) is not None or model_info(name).dataset == TABLE_DATASETS[table]


def method_label(name: str, table: int) -> str:
    figures = paper_row(name, table)
    if figures is not None:
        return figures.row
    return SUITE_ROW if name in list_models(module="architectures") else USER_ROW


def default_models() -> list[str]:
    """Every model behind a row of Table 4 or 5, then every user model."""
    rows = [n for n in list_models() if paper_row(n, 4) or paper_row(n, 5)]
    return rows + [n for n in user_models() if n not in rows]


def resolve_models(requested: Sequence[str], reference: str) -> list[str]:
    """Validated model list with the speed-up reference first; unknown names list the known ones."""

    known = list_models()
    names = list(requested) or default_models()
    unknown = [n for n in [*names, reference] if n not in known]
    if unknown:
        raise UsageError(
            f"unknown model(s) {', '.join(map(repr, unknown))}; known models: {', '.join(known)}"
        )
    return [reference] + [n for n in dict.fromkeys(names) if n != reference]


# ---------------------------------------------------------------- measuring


def resolve_device(spec: str) -> torch.device:
    """See :func:`bench.measure.devices.resolve_device`: ``meta``, garbage or absent CUDA are
    refused."""
    return _resolve_device(spec, "--device")


def presets_for(config: TablesConfig, device: torch.device) -> Presets:
    quick = config.speed == "quick" or (config.speed == "auto" and device.type != "cuda")
    base = QUICK if quick else FULL
    modes = tuple(dict.fromkeys(("fp32", *config.modes))) if config.modes else base.mode_names
    fp32 = base.fp32
    if config.iters is not None:  # exactly that many fp32 samples: no time cap
        fp32 = TimingConfig(base.fp32.warmup, config.iters)
    return Presets(fp32, base.modes, base.profile, modes, base.rounds)


def model_counts(names: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(model, params_m, gmacs) from bench.measure.complexity, and its full complexity table."""
    table = complexity_table(list(names))
    counts = pd.DataFrame(
        {"model": table["model"], "params_m": table["params (M)"], "gmacs": table[GFLOPS_COLUMN]}
    )
    return counts, table


ACCURACY_COLUMNS = ("PCKh", "Hip", "AUC")


def measured_accuracy(
    checkpoints: Sequence[tuple[str, Path]], data_root: Path | None, device: torch.device
) -> pd.DataFrame:
    """PCKh / Hip / AUC of trained checkpoints on the val split, via ``bench.evaluate``.

    The paper's figures are on the test split (LIP and MPII test labels are not public), so
    these columns are labelled "(ours, val)" and are not a like-for-like deviation.
    """
    rows = []
    for name, path in checkpoints:
        result = evaluate_checkpoint(
            name, path, model_info(name).dataset, data_root, split="val", device=str(device)
        )
        rows.append(
            {
                "model": name,
                **{f"{c} (ours, val)": result[c] for c in ACCURACY_COLUMNS if c in result},
            }
        )
    return pd.DataFrame(rows)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="bench.tables", unit="step", disable=not enabled, file=sys.stderr)


def measure(config: TablesConfig, names: Sequence[str], device: torch.device) -> Measurements:
    """Run every measurement; nothing is written here."""
    presets = presets_for(config, device)
    extra = [m for m in presets.mode_names if m != "fp32"]
    env = environment_record(device)
    timed = len(names) * (1 + len(extra)) * presets.rounds
    steps = timed + (len(names) if config.profile else 0) + 1
    with _progress(steps, config.progress) as bar:

        def step(*label: str) -> None:
            bar.set_postfix_str(" ".join(label))
            bar.update()

        fp32 = benchmark_models(
            names, device, ["fp32"], presets.fp32, on_step=step, rounds=presets.rounds
        )
        others = (
            benchmark_models(
                names, device, extra, presets.modes, on_step=step, rounds=presets.rounds
            )
            if extra
            else None
        )
        layers = (
            profile_models(names, device, presets.profile, on_step=step) if config.profile else None
        )
        runtimes = for_tables(config.runtimes, config.speed, names, device, on_step=step)
        counts, complexity = model_counts(names)
        step("complexity")
    latency = pd.concat([fp32, others], ignore_index=True) if others is not None else fp32
    accuracy = (
        measured_accuracy(config.checkpoints, config.data_root, device)
        if config.checkpoints
        else None
    )
    env["timing"] = {
        "fp32": vars(presets.fp32),
        "other_modes": vars(presets.modes),
        "profile": vars(presets.profile),
        "modes": presets.mode_names,
        "interleaved_rounds": presets.rounds,
    }
    return Measurements(
        env, latency, counts, complexity, table3(), layers, accuracy, runtimes=runtimes
    )


# ---------------------------------------------------------------- assembling tables


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
    for column in (
        "valid",
        "validity",
    ):  # the timer's verdict on the fp32 timing, when it gives one
        if column in fp32:
            out[column] = fp32[column]
    return out


def _paper_columns(
    figures: PaperFigures | None,
    metrics: Sequence[str],
    reference_figures: PaperFigures | None,
) -> dict:
    """The paper's figures of the row; NaN throughout for a model the paper does not list."""
    value = lambda attr: (
        math.nan if figures is None or getattr(figures, attr) is None else getattr(figures, attr)
    )
    out = {f"{METRIC_LABELS[m]} (paper)": value(m) for m in metrics}
    out["time (ms, paper)"] = value("time_ms")
    ref_time = reference_figures.time_ms if reference_figures is not None else None
    time_ms = out["time (ms, paper)"]
    out["speed-up (paper)"] = (
        ref_time / time_ms if ref_time and not math.isnan(time_ms) else math.nan
    )
    out["GFLOPs (paper)"] = value("gflops")
    return out


def paper_table(table: int, m: Measurements, names: Sequence[str], reference: str) -> pd.DataFrame:
    """Every measured model of GCPM Table ``table``: its rows, then the measured models of the
    table's dataset that the paper does not list (a user's own; paper columns NaN)."""
    fp32 = m.latency[m.latency["mode"] == "fp32"].set_index("model")
    ref_ms = fp32.median_ms.get(reference, math.nan)
    ref_fig = paper_row(reference, table)
    counts = m.counts.set_index("model")
    listed = [n for n in names if paper_row(n, table) is not None]
    joined = [n for n in names if n not in listed and joins_table(n, table)]
    rows = []
    for name in listed + joined:
        lat = _latency_columns(m.latency, name)
        rows.append(
            {
                "method (paper row)": method_label(name, table),
                "model": name,
                **lat,
                f"speed-up vs {reference}": ref_ms / lat["latency median (ms)"],
                "params (M)": float(counts.params_m.get(name, math.nan)),
                "GFLOPs (1 MAC = 1 FLOP)": float(counts.gmacs.get(name, math.nan)),
                **_paper_columns(paper_row(name, table), PAPER_METRICS[table], ref_fig),
            }
        )
    df = pd.DataFrame(rows)
    if not df.empty:
        paper_g = df["GFLOPs (paper)"].astype(float)
        df["GFLOPs dev. vs paper (%)"] = 100 * (df["GFLOPs (1 MAC = 1 FLOP)"] / paper_g - 1)
        df = _with_accuracy(df, m.accuracy)
    return df


def _with_accuracy(df: pd.DataFrame, accuracy: pd.DataFrame | None) -> pd.DataFrame:
    if accuracy is None or accuracy.empty:
        return df
    return df.merge(accuracy, on="model", how="left")


def layer_share_table(layers: pd.DataFrame) -> pd.DataFrame:
    """Wide view: one row per layer type, time and FLOP shares (%) per model side by side."""
    time_pct = layers.pivot(index="layer_type", columns="model", values="time_share_pct")
    flop_pct = layers.pivot(index="layer_type", columns="model", values="flops_share_pct")
    wide = pd.concat({"time %": time_pct, "FLOPs %": flop_pct}, axis=1).swaplevel(axis=1)
    order = list(dict.fromkeys(layers.layer_type))
    wide = wide.reindex(order).sort_index(axis=1, level=0, sort_remaining=False)
    wide.columns = [f"{model} {what}" for model, what in wide.columns]
    return wide.reset_index()


def speedup_rows(tables: dict[int, pd.DataFrame], reference: str) -> pd.DataFrame:
    """(label, model, ours, paper) of every Table 4 / 5 row but the reference's own."""
    rows = [
        {
            "label": f"Table {table}: {r['method (paper row)']}",
            "model": r["model"],
            "ours": r[f"speed-up vs {reference}"],
            "paper": r["speed-up (paper)"],
        }
        for table, df in tables.items()
        for _, r in df.iterrows()
        if r["model"] != reference
    ]
    return pd.DataFrame(rows, columns=["label", "model", "ours", "paper"])


def _layer_notes(layers: pd.DataFrame) -> str:
    """Profile coverage per model, and layer types whose FLOPs fvcore does not (fully) count."""
    lines = []
    if "coverage_pct" in layers:
        coverage = layers.groupby("model", sort=False).coverage_pct.first()
        lines.append(
            "Profiled op time as a share of the latency timed just before the profile: "
            + ", ".join(f"{n} {v:.0f} %" for n, v in coverage.items())
            + "."
        )
    if "flops_counted" in layers:
        partial = layers[layers.flops_counted.isin(["no", "partly"])]
        every = set(layers.model)
        groups = partial.groupby(["layer_type", "flops_counted"], sort=False).model
        listed = "; ".join(
            f"{kind} {status} ({'every model' if set(ms) == every else ', '.join(ms)})"
            for (kind, status), ms in groups
        )
        if listed:
            lines.append(f"FLOPs fvcore counts not or only partly: {listed}.")
    return (" " + " ".join(lines)) if lines else ""


NOISY_CV = 0.2  # above this, the median of a short run says little; the notes warn


def _noise_warning(latency: pd.DataFrame) -> str:
    fp32 = latency[latency["mode"] == "fp32"]
    noisy = fp32[fp32.cv > NOISY_CV]
    if noisy.empty:
        return ""
    listed = ", ".join(f"{r.model} ({100 * r.cv:.0f} %)" for r in noisy.itertuples())
    return (
        f"**Noisy measurement:** fp32 CV above {100 * NOISY_CV:.0f} % for {listed} "
        f"(marked {headline.NOISY_MARK}). The machine was probably busy; speed-ups from "
        f"these rows are unreliable. Rerun on an idle machine or with more --iters.\n\n"
    )


def _notes(m: Measurements, reference: str, models: Sequence[str] | None = None) -> str:
    """Notes under a table; the noise warning covers ``models`` (default: every model)."""
    env = m.env
    gpu = env["gpu"].get("name") or "no GPU"
    latency = m.latency if models is None else m.latency[m.latency.model.isin(list(models))]
    return _noise_warning(latency) + (
        f"Measured on {env['device']} ({gpu}; CPU {env['cpu_model']}, {env['torch_threads']} "
        f"threads), torch {env['torch']}, batch 1, fp32 eager unless the column names a mode "
        f"(modes measured: {', '.join(env['timing']['modes'])}). Latency: median of the "
        f"timed samples, p10-p90 in brackets; {headline.NOISY_MARK} marks a CV above "
        f"{100 * NOISY_CV:.0f} % or a GPU that reported power or thermal clock limits, "
        f"{headline.SHORT_MARK} a timing with fewer samples or less time than a valid one "
        f"needs (column 'validity' of latency.csv says which). "
        f"Speed-up = latency of {reference} / latency of the row, both measured in this run. "
        f"Columns marked (paper) are copied from the GCPM paper ({PAPER_DEVICE}); compare "
        f"speed-ups, not milliseconds, across machines. GFLOPs follow the paper's convention "
        f"(fvcore: one multiply-add = one FLOP)."
    )


def _row_sources(table: int, names: Sequence[str]) -> str:
    """Each row's source as the registry renders it (it says e.g. what a row adds), and what
    the rows the paper does not list are."""
    lines = [
        f"- {name}: {fig.source}" for name in names if (fig := paper_row(name, table)) is not None
    ]
    lines += [
        f"- {name}: {method_label(name, table)} ({model_info(name).dataset}); the paper "
        f"has no figures for it"
        for name in names
        if paper_row(name, table) is None and joins_table(name, table)
    ]
    return "\n\nRows, as the registry records them:\n" + "\n".join(lines) if lines else ""


Writer = Callable[[Path], Path]
EMPTY_TABLE = "(no measured model stands behind a row of this table)"


def outputs(m: Measurements, names: Sequence[str], reference: str) -> dict[str, Writer]:
    """File name -> writer; every frame and figure is built before anything is written.

    A table with a headline view writes the view to ``<stem>.md`` and every column to
    ``<stem>.csv`` and ``<stem>_full.md``. ``index.html`` comes last: it embeds the PNGs
    written before it into the same folder and links every other file.
    """
    notes = _notes(m, reference)
    files: dict[str, Writer] = {}
    sections: list[report_html.Section] = []

    def frame(
        stem: str,
        df: pd.DataFrame,
        title: str,
        text: str = notes,
        view: pd.DataFrame | None = None,
    ) -> None:
        files[f"{stem}.csv"] = lambda p, df=df: io.write_csv(df, p)
        shown = df if view is None else view
        files[f"{stem}.md"] = lambda p, df=shown: io.write_markdown(df, p, title, text, EMPTY_TABLE)
        if view is not None:
            full = headline.uniform(df)
            files[f"{stem}_full.md"] = lambda p, df=full: io.write_markdown(
                df, p, f"{title} (every column)", text, EMPTY_TABLE
            )
        sections.append(report_html.Section(stem, title, shown, text))

    paper_tables = {table: paper_table(table, m, names, reference) for table in (4, 5)}
    for table, df in paper_tables.items():
        models = [reference, *df.model] if not df.empty else [reference]
        labels = [METRIC_LABELS[k] for k in PAPER_METRICS[table]]
        frame(
            f"table{table}",
            df,
            TABLE_TITLES[table],
            _notes(m, reference, models) + _row_sources(table, names),
            headline.paper_table_view(df, reference, labels, 100 * NOISY_CV),
        )
    frame(
        "table3",
        m.table3,
        "Table 3: complexity of the context modules",
        "",
        headline.formatted(m.table3, headline.TABLE3_VIEW),
    )
    frame(
        "complexity",
        m.complexity,
        "Parameters and GFLOPs (1 MAC = 1 FLOP) at batch 1",
        "",
        headline.formatted(m.complexity, headline.COMPLEXITY_VIEW),
    )
    frame(
        "latency",
        m.latency,
        "Batch-1 latency, every model and mode",
        notes,
        headline.latency_view(m.latency, NOISY_CV),
    )
    colors = plots.model_colors(names)
    if m.runtimes is not None:
        files.update(runtime_outputs(m.runtimes, m.counts, m.env, reference, colors))
        sections.append(runtimes_report(m.runtimes, m.counts, m.env, reference).section())
    fig = plots.latency_vs_gflops(m.latency, m.counts, colors)
    files["latency_vs_gflops.png"] = lambda p: io.write_figure(fig, p)
    speeds = speedup_rows(paper_tables, reference)
    if not speeds.empty:
        speed_fig = plots.speedups(speeds, reference, colors)
        files["speedups.png"] = lambda p: io.write_figure(speed_fig, p)
    if m.layers is not None:
        files["layer_profile.csv"] = lambda p: io.write_csv(m.layers, p)
        share = layer_share_table(m.layers)
        share = headline.uniform(share, places=1)  # shares: one decimal, every column
        files["layer_profile.md"] = lambda p: io.write_markdown(
            share,
            p,
            "Runtime by layer type (share of profiled op time) beside share of FLOPs",
            notes
            + " Shares add up to 100 % per model (time over profiled op time)."
            + _layer_notes(m.layers),
        )
        bars = plots.layer_shares(m.layers, colors)
        files["layer_profile.png"] = lambda p: io.write_figure(bars, p)
    files["env.json"] = lambda p: io.write_json(m.env, p)
    # Last, and reading ``files`` when it writes: it embeds every PNG written before it.
    files["index.html"] = lambda p: report_html.write_index(
        p, m.env, sections, [n for n in files if n != "index.html"]
    )
    return files


# ---------------------------------------------------------------- command line


def _checkpoint(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--checkpoint wants NAME=PATH, got {text!r}")
    return name, Path(path)


def _parser() -> argparse.ArgumentParser:
    p = ArgumentParser(prog="python -m bench.tables", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="auto", help="cuda, cuda:1, cpu; auto = cuda if available")
    p.add_argument(
        "--models",
        nargs="+",
        default=[],
        help="registered models to measure (default: every Table 4/5 model)",
    )
    p.add_argument("--reference", default=REFERENCE, help="speed-up reference, measured too")
    p.add_argument(
        "--iters",
        type=int,
        help=f"timed fp32 iterations per model, 1 to {MAX_ITERS} (at least; no time cap)",
    )
    p.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    speed = p.add_mutually_exclusive_group()
    speed.add_argument(
        "--quick",
        dest="speed",
        action="store_const",
        const="quick",
        help="short run (default without a GPU): a few minutes on 2 CPU cores",
    )
    speed.add_argument(
        "--full",
        dest="speed",
        action="store_const",
        const="full",
        help="long run (default on a GPU): 200 fp32 iterations, 2 s minimum",
    )
    p.add_argument(
        "--modes",
        nargs="+",
        default=[],
        choices=MODES,
        help="latency modes; fp32 (the paper's) is always measured. Default: all, "
        "but only fp32 and channels_last in a quick CPU run",
    )
    p.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="skip the runtime-by-layer-type profile",
    )
    p.add_argument(
        "--checkpoint",
        type=_checkpoint,
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="trained weights whose val PCKh to show beside the paper's; repeat it for "
        "other models (one checkpoint per model)",
    )
    p.add_argument("--data-root", type=Path, help="dataset root for --checkpoint evaluation")
    p.add_argument(
        "--runtimes",
        nargs="+",
        default=[],
        type=runtime_spec,
        metavar="NAME[:PRECISION]",
        help="deployment runtimes for runtimes.* and cpu_realtime.md ({}; 'none' "
        "skips them). Default: every one available on the device; a quick run "
        "leaves out compile".format(", ".join(list_runtimes())),
    )
    p.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress lines on stderr (logs, CI)",
    )
    p.set_defaults(speed="auto")
    return p


def config_from_args(args: argparse.Namespace) -> TablesConfig:
    return TablesConfig(
        device=args.device,
        models=tuple(args.models),
        reference=args.reference,
        out=args.out,
        speed=args.speed,
        iters=args.iters,
        modes=tuple(args.modes),
        profile=args.profile,
        checkpoints=tuple(args.checkpoint),
        data_root=args.data_root,
        progress=args.progress,
        runtimes=tuple(args.runtimes),
    )


def check_checkpoints(config: TablesConfig, names: Sequence[str]) -> None:
    """Fail before the long measurements, not after them: each checkpoint readable, each model's
    data set found under ``--data-root``."""

    if config.checkpoints and config.data_root is None:
        raise UsageError("--checkpoint needs --data-root (the dataset to evaluate on)")
    given = [name for name, _ in config.checkpoints]
    twice = sorted({name for name in given if given.count(name) > 1})
    if twice:  # one table row per model: a second checkpoint would add a second row
        raise UsageError(f"--checkpoint {twice[0]} given twice: one checkpoint per model")
    for name, path in config.checkpoints:
        if name not in names:
            raise UsageError(
                f"--checkpoint {name}={path}: {name!r} is not among the measured "
                f"models ({', '.join(names)})"
            )
        io.readable_file(path, f"--checkpoint {name}={path}")
        check_checkpoint_fits(name, path)
    for dataset in dict.fromkeys(model_info(name).dataset for name, _ in config.checkpoints):
        check_data_root(dataset, config.data_root)


def check_checkpoint_fits(name: str, path: Path) -> None:
    """The checkpoint loads safely (``weights_only``), records no other model, and every weight
    fits ``name``; else a :class:`CheckpointError` naming the file."""
    state = load_checkpoint(path)
    check_made_for(state, name, path)
    load_weights(build_at_size(name), state, path, name)


def check_data_root(dataset: str, root: Path) -> None:
    """The val annotations of ``dataset`` under ``root`` open (files named on failure)."""

    if not root.is_dir():
        raise InputFileError(f"--data-root {root}: no such folder")
    try:
        open_reader(dataset, root, "val")
    except (OSError, AnnotationError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise InputFileError(f"--data-root {root} ({dataset} val): {message}") from None


# Every name run() has written (with or without a manifest): a file of this list that the current
# run does not produce is an earlier run's and leaves with the previous set.
OUTPUT_NAMES = (
    tuple(
        f"{stem}{ext}"
        for stem in ("table3", "table4", "table5", "complexity", "latency", "layer_profile")
        for ext in (".csv", ".md", "_full.md")
    )
    + ("latency_vs_gflops.png", "speedups.png", "layer_profile.png", "env.json", "index.html")
    + RUNTIME_OUTPUTS
)


def check_config(config: TablesConfig) -> tuple[torch.device, list[str]]:
    """Every check that can fail, before anything slow: numbers, device, models, checkpoints,
    data root, output folder (created and probed; stale temporary files removed)."""
    check_range("--iters", config.iters, low=1, high=MAX_ITERS)
    device = resolve_device(config.device)
    names = resolve_models(config.models, config.reference)
    check_checkpoints(config, names)
    result_set.check_owner(config.out, "bench.tables", OUTPUT_NAMES)  # before creating it
    io.prepare_output(config.out, "--out")
    result_set.recover(config.out)
    return device, names


def run(config: TablesConfig) -> dict[str, Path]:
    """Check, measure, then publish every output into ``config.out`` as one set (manifest
    last); returns the written paths."""
    device, names = check_config(config)
    run_id = result_set.new_run_id()
    started = time.time()
    m = measure(config, names, device)
    m.env["models"] = names
    m.env["run_id"] = run_id
    m.env["wall_time_s"] = round(time.time() - started, 1)
    files = outputs(m, names, config.reference)
    return result_set.publish(
        config.out, files, owned=OUTPUT_NAMES, producer="bench.tables", run_id=run_id
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # claim: a run that fails removes the --out folder it created, if it left it empty.
    with error_boundary(parser), result_set.claim(args.out, "bench.tables", OUTPUT_NAMES):
        written = run(config_from_args(args))
    print(f"wrote {len(written)} files to {args.out}:")
    for path in written.values():
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
