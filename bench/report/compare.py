"""Result sets of ``bench.tables`` joined row by row, speed-ups within a set (docs/compare.md)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from architectures.errors import InputFileError, UsageError
from bench.report.publish import read_manifest
from bench.report.views import MISSING

PRODUCER = "bench.tables"
REFERENCE = "hourglass-8stack"
LATENCY_KEYS = ["model", "input"]
RUNTIME_KEYS = ["model", "input", "runtime", "precision", "device", "threads"]
STATS = ["median_ms", "p10_ms", "p90_ms", "cv"]
RUNTIME_GROUP = ["model", "input", "device", "threads"]  # runtimes are compared within these
# Words of a CPU model string that say nothing about the machine: "(R)", "CPU", "@ 2.00GHz".
_NOISE = re.compile(r"\((R|TM)\)|\bCPU\b|\bProcessor\b|@\s*[\d.]+\s*GHz", re.IGNORECASE)


@dataclass(frozen=True)
class ResultSet:
    """One machine's figures: fp32 latency per model; timed runtime rows (``None``: none timed)."""

    folder: Path
    label: str
    env: dict
    latency: pd.DataFrame
    runtimes: pd.DataFrame | None


def _read(
    folder: Path, manifest: dict, name: str, columns: Sequence[str] = (), required: bool = True
) -> dict | pd.DataFrame | None:
    """JSON record (no ``columns``) or CSV frame ``name`` of the set; None: optional, absent."""
    path = folder / name
    if not path.is_file():
        if name in manifest["files"]:
            raise InputFileError(f"{path}: listed in {folder / 'manifest.json'} but missing")
        if required:
            raise InputFileError(f"{path}: missing (every bench.tables result set has one)")
        return None
    what = "a readable CSV" if columns else "valid JSON"
    try:  # pandas' parser errors, JSON's and a decoding error are all ValueErrors
        data = pd.read_csv(path) if columns else json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputFileError(f"{path}: not {what} ({' '.join(str(exc).split())})") from None
    numbers = [c for c in (*STATS, "cv_pct", "threads") if columns and c in data]
    if text := [c for c in numbers if not pd.api.types.is_numeric_dtype(data[c])]:
        raise InputFileError(f"{path}: column {text[0]} holds text, not numbers (edited by hand?)")
    if columns and "cv_pct" in data and "cv" not in data:  # latency.csv gives the CV in %
        data["cv"] = data["cv_pct"] / 100
    if not columns and not isinstance(data, dict):
        raise InputFileError(f"{path}: not a JSON object")
    if lacking := [c for c in columns if c not in data]:
        raise InputFileError(f"{path}: no column {', '.join(lacking)} (not written by {PRODUCER})")
    return data


def _timed_runtimes(df: pd.DataFrame) -> pd.DataFrame:
    """Timed rows, threads as "1" / "all" and device as its type: other machines' rows line up."""
    rows = df[df["median_ms"].notna()].copy()
    most = rows["threads"].max()
    rows["threads"] = ["all" if t == most else str(int(t)) for t in rows["threads"]]
    rows["device"] = rows["device"].astype(str).str.split(":").str[0]
    return rows[RUNTIME_KEYS + STATS].reset_index(drop=True)


def _unique(df: pd.DataFrame, keys: list[str], path: Path) -> pd.DataFrame:
    if not (twice := df[df.duplicated(keys)]).empty:
        row = ", ".join(str(v) for v in twice.iloc[0][keys])
        raise InputFileError(f"{path}: two timed rows for {row} (edited by hand?)")
    return df


def load_set(folder: Path, label: str = "") -> ResultSet:
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a result set folder" if folder.exists() else "no such folder"
        raise InputFileError(f"{folder}: {what}")
    if (manifest := read_manifest(folder)) is None:
        raise InputFileError(
            f"{folder}: not a result set (no manifest.json; `python -m {PRODUCER} --out "
            f"{folder}` writes one)"
        )
    if (producer := manifest.get("producer")) != PRODUCER:
        raise InputFileError(
            f"{folder}: a set written by {producer or 'an unknown tool'}, not by {PRODUCER}"
        )
    env = _read(folder, manifest, "env.json")
    df = _read(folder, manifest, "latency.csv", ["mode", *LATENCY_KEYS, *STATS])
    fp32 = df[(df["mode"] == "fp32") & df["median_ms"].notna()].reset_index(drop=True)
    latency = _unique(fp32[LATENCY_KEYS + STATS], LATENCY_KEYS, folder / "latency.csv")
    runtimes = _read(folder, manifest, "runtimes.csv", RUNTIME_KEYS + STATS, required=False)
    if runtimes is not None:
        runtimes = _unique(_timed_runtimes(runtimes), RUNTIME_KEYS, folder / "runtimes.csv")
    return ResultSet(folder, label, env, latency, runtimes)


def _machine(env: Mapping) -> str:
    """The GPU's name for a CUDA set, else the CPU model without its marketing noise."""
    gpu = env.get("gpu") if isinstance(env.get("gpu"), Mapping) else {}
    cuda = str(env.get("device", "")).startswith("cuda")
    name = str((gpu.get("name") if cuda else None) or env.get("cpu_model") or "")
    return " ".join(_NOISE.sub(" ", name).split())


def derive_labels(sets: Sequence[ResultSet]) -> list[str]:
    """GPU name (CUDA set) or CPU model; a label shared gets the folder's name, then a number."""
    labels = [_machine(s.env) or s.folder.name for s in sets]
    for suffix in (lambda i: f" ({sets[i].folder.name})", lambda i: f" #{i + 1}"):
        twice = {x for x in labels if labels.count(x) > 1}
        labels = [x + suffix(i) if x in twice else x for i, x in enumerate(labels)]
    return labels


def load_sets(folders: Sequence[Path], names: Sequence[str] = ()) -> list[ResultSet]:
    sets = [load_set(f) for f in folders]
    labels = list(names) or derive_labels(sets)
    sets = [replace(s, label=x) for s, x in zip(sets, labels)]
    first = sets[0]
    for other in sets[1:]:
        if not set(first.latency.model) & set(other.latency.model):
            have = [", ".join(sorted(set(s.latency.model))) or "none" for s in (other, first)]
            raise UsageError(
                f"{other.folder} and {first.folder} have no model in common ({have[0]} vs "
                f"{have[1]}): nothing to compare"
            )
    return sets


def column(label: str, value: str) -> str:
    return f"{label} {value}"


def _ranked(df: pd.DataFrame, labels: Sequence[str], groups: Sequence[str]) -> pd.DataFrame:
    """Per set ``rank`` (1 = fastest in ``groups``, rows every set timed), ``rank_change``."""
    medians = [column(x, "median_ms") for x in labels if df[column(x, "median_ms")].notna().any()]
    common = df[medians].notna().all(axis=1)
    for x in labels:
        values = df.loc[common, column(x, "median_ms")]
        by = [df.loc[common, g] for g in groups]
        ranks = values.groupby(by).rank(method="min") if groups else values.rank(method="min")
        df[column(x, "rank")] = ranks.reindex(df.index).astype("Int64")
    first = df[column(labels[0], "rank")]
    for x in labels:  # after every rank: the CSV keeps ranks, then rank changes
        df[column(x, "rank_change")] = first - df[column(x, "rank")]
    return df


def join(
    frames: Mapping[str, pd.DataFrame], keys: Sequence[str], groups: Sequence[str] = ()
) -> pd.DataFrame:
    """Outer join on ``keys``, first set's rows first; ``vs_first``: its median over the set's."""
    labels = list(frames)
    order = [f"_position {i}" for i in range(len(labels))]  # an outer merge sorts the keys
    joined = None
    for i, (label, df) in enumerate(frames.items()):
        named = df.rename(columns={c: column(label, c) for c in df if c not in keys})
        named[order[i]] = range(len(named))
        joined = named if joined is None else joined.merge(named, on=list(keys), how="outer")
    joined = joined.sort_values(order, na_position="last").drop(columns=order)
    first = joined[column(labels[0], "median_ms")]
    for x in labels[1:]:
        joined[column(x, "vs_first")] = first / joined[column(x, "median_ms")]
    return _ranked(joined.reset_index(drop=True), labels, groups)


def latency_frame(sets: Sequence[ResultSet], reference: str = REFERENCE) -> pd.DataFrame:
    frames = {}
    for s in sets:
        ref = s.latency.set_index("model")["median_ms"].get(reference, math.nan)
        frames[s.label] = s.latency.assign(speedup=ref / s.latency["median_ms"])
    return join(frames, LATENCY_KEYS)


def runtimes_frame(sets: Sequence[ResultSet]) -> pd.DataFrame | None:
    """``speedup``: the set's eager fp32 of the row's model, device, threads over the row."""
    if all(s.runtimes is None for s in sets):
        return None
    frames = {}
    for s in sets:
        rows = s.runtimes if s.runtimes is not None else pd.DataFrame(columns=RUNTIME_KEYS + STATS)
        eager = rows[(rows.runtime == "eager") & (rows.precision == "fp32")]
        base = eager.set_index(RUNTIME_GROUP)["median_ms"]
        at = pd.MultiIndex.from_frame(rows[RUNTIME_GROUP])
        frames[s.label] = rows.assign(speedup=base.reindex(at).to_numpy() / rows["median_ms"])
    return join(frames, RUNTIME_KEYS, RUNTIME_GROUP)


FIRST = ("cpu_model", "isa", "cpu_flags", "cpu_count", "torch_threads", "device", "gpu.name")
FIRST += ("torch", "load.others_cores", "load.load_1m", "load.cores", "load.busy")
IGNORED = ("run_id", "wall_time_s", "models", "gpu.state_at_start")


def flatten(record: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested settings as ``"gpu.name" -> value``; lists stay lists (sets of flags)."""
    flat: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _flags(values: Sequence[object]) -> list[str]:
    """Each set's flags not every set has (``+avx512f``); all of them when a set has none."""
    lists = [set(map(str, v)) if isinstance(v, list) else None for v in values]
    shared = set() if None in lists else set.intersection(*lists)
    return [
        MISSING if s is None else " ".join(f"+{f}" for f in sorted(s - shared)) or "(shared only)"
        for s in lists
    ]


def differences(envs: Mapping[str, Mapping]) -> pd.DataFrame:
    flat = {label: flatten(env) for label, env in envs.items()}
    ignored = [k for f in flat.values() for k in f for i in IGNORED if f"{k}.".startswith(f"{i}.")]
    keys = {k for f in flat.values() for k in f} - set(ignored)
    rows = []
    for key in [k for k in FIRST if k in keys] + sorted(keys - set(FIRST)):
        values = [f.get(key) for f in flat.values()]
        if any(isinstance(v, list) for v in values):
            lists = {tuple(sorted(map(str, v))) if isinstance(v, list) else None for v in values}
            if len(lists) > 1:
                rows.append([key, *_flags(values)])
        elif len({repr(v) for v in values}) > 1:
            rows.append([key, *(MISSING if v is None else str(v) for v in values)])
    return pd.DataFrame(rows, columns=["setting", *envs])
