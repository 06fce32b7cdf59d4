"""What differs between the machines of several result sets (their ``env.json``).

Only the settings that differ are listed: the CPU and its instruction-set flags (AMX, AVX-512,
VNNI decide which oneDNN kernels run), cores and threads, device and GPU, torch, the machine's
load; then any other recorded setting that differs (timing presets, numerics flags). Figures
that differ on every run (run id, wall time, a GPU's momentary clocks) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

MISSING = "–"
FIRST = (
    "cpu_model",
    "isa",
    "cpu_flags",
    "cpu_count",
    "torch_threads",
    "device",
    "gpu.name",
    "torch",
    "load.load_1m",
    "load.cores",
    "load.busy",
)
IGNORED = ("run_id", "wall_time_s", "models", "gpu.state_at_start")


def flatten(record: Mapping, prefix: str = "") -> dict[str, object]:
    """Nested settings as ``"gpu.name" -> value``; lists stay lists (sets of flags)."""
    flat: dict[str, object] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _ignored(key: str) -> bool:
    return any(key == i or key.startswith(f"{i}.") for i in IGNORED)


def _flags(values: Sequence[object]) -> list[str]:
    """Each set's flags that not every set has (``+avx512f``); shared ones are left out, unless
    a set records none (then every set shows all of its own)."""
    lists = [set(map(str, v)) if isinstance(v, list) else None for v in values]
    shared = set() if None in lists else set.intersection(*lists)
    return [
        MISSING if s is None else " ".join(f"+{f}" for f in sorted(s - shared)) or "(shared only)"
        for s in lists
    ]


def _cell(value: object) -> str:
    return MISSING if value is None else str(value)


def differences(envs: Mapping[str, Mapping]) -> pd.DataFrame:
    """``setting`` plus one column per set label, a row per setting that differs between them;
    the most telling settings first (:data:`FIRST`), then the others in name order."""
    flat = {label: flatten(env) for label, env in envs.items()}
    keys = {k for f in flat.values() for k in f if not _ignored(k)}
    ordered = [k for k in FIRST if k in keys] + sorted(keys - set(FIRST))
    rows = []
    for key in ordered:
        values = [f.get(key) for f in flat.values()]
        if any(isinstance(v, list) for v in values):
            if (
                len({tuple(sorted(map(str, v))) if isinstance(v, list) else None for v in values})
                > 1
            ):
                rows.append([key, *_flags(values)])
        elif len({repr(v) for v in values}) > 1:
            rows.append([key, *map(_cell, values)])
    return pd.DataFrame(rows, columns=["setting", *envs])
