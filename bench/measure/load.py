"""How busy the machine is around a timed block: load average and CPU time stolen by a hypervisor.

Latency measured while other jobs share the cores says more about them than about the model; the
tables record these figures before and after each timed block so a reader can tell. Linux reads
``/proc``; elsewhere the load average comes from :func:`os.getloadavg` and steal is unknown.
"""

from __future__ import annotations

import os
from pathlib import Path

BUSY_FRACTION = 0.5  # load average per core above which a timed block is called "on a busy machine"


def _cpu_ticks(stat: Path = Path("/proc/stat")) -> tuple[int, int] | None:
    """(total, steal) jiffies of all CPUs since boot; ``None`` where /proc/stat is absent."""
    try:
        fields = stat.read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    ticks = [int(value) for value in fields[1:]]
    steal = ticks[7] if len(ticks) > 7 else 0
    return sum(ticks[:8]), steal


def machine_load() -> dict[str, float | None]:
    """The 1-minute load average, the core count, and the cumulative CPU ticks (for steal deltas)."""
    try:
        load_1m = os.getloadavg()[0]
    except OSError:
        load_1m = None
    ticks = _cpu_ticks()
    return {
        "load_1m": load_1m,
        "cores": os.cpu_count() or 1,
        "ticks_total": None if ticks is None else ticks[0],
        "ticks_steal": None if ticks is None else ticks[1],
    }


def steal_percent(before: dict, after: dict) -> float | None:
    """Share of CPU time stolen between two :func:`machine_load` readings, in %."""
    if before.get("ticks_total") is None or after.get("ticks_total") is None:
        return None
    total = after["ticks_total"] - before["ticks_total"]
    steal = after["ticks_steal"] - before["ticks_steal"]
    return 100.0 * steal / total if total > 0 else 0.0


def is_busy(load_1m: float | None, cores: int) -> bool:
    """A load average above :data:`BUSY_FRACTION` per core: other work competed for the cores."""
    return load_1m is not None and load_1m > BUSY_FRACTION * cores
