"""The ``env.json`` settings in which result sets differ, telling ones (CPU, ISA flags) first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from bench.report.views import MISSING

FIRST = ("cpu_model", "isa", "cpu_flags", "cpu_count", "torch_threads", "device", "gpu.name")
FIRST += ("torch", "load.load_1m", "load.cores", "load.busy")
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
