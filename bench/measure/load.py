"""How busy the machine is around a timed block: load average and CPU time stolen by a hypervisor
(from ``/proc/stat``; unknown off Linux), for latency rows and the environment record."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

# Above these a run is called "on a busy machine": cores other processes kept busy while this one
# slept for a moment before timing, or, where /proc/stat is missing, the load average per core
# (which lags: the tests just run before it still count for a minute or more).
BUSY_OTHERS_FRACTION = 0.25
BUSY_FRACTION = 0.5


def machine_load(stat: Path = Path("/proc/stat")) -> dict[str, float | None]:
    try:
        load_1m = os.getloadavg()[0]
    except OSError:
        load_1m = None
    try:  # jiffies of all CPUs since boot: the first eight fields (guest is inside user)
        ticks = [int(value) for value in stat.read_text().splitlines()[0].split()[1:]]
        total, steal = sum(ticks[:8]), ticks[7] if len(ticks) > 7 else 0
        idle = sum(ticks[3:5])  # idle and iowait
    except (OSError, IndexError, ValueError):
        total = steal = idle = None
    cores = os.cpu_count() or 1
    ticks = {"ticks_total": total, "ticks_steal": steal, "ticks_idle": idle}
    return {"load_1m": load_1m, "cores": cores, **ticks}


def steal_percent(before: dict, after: dict) -> float | None:
    """Share of CPU time stolen between two :func:`machine_load` readings, in %."""
    if before.get("ticks_total") is None or after.get("ticks_total") is None:
        return None
    total = after["ticks_total"] - before["ticks_total"]
    steal = after["ticks_steal"] - before["ticks_steal"]
    return 100.0 * steal / total if total > 0 else 0.0


def others_cores(window_s: float = 0.5, stat: Path = Path("/proc/stat")) -> float | None:
    """Cores kept busy (stolen time included) by everything else while this process sleeps for
    ``window_s``; ``None`` without a readable ``/proc/stat``."""
    before = machine_load(stat)
    time.sleep(window_s)
    after = machine_load(stat)
    if before["ticks_total"] is None or after["ticks_total"] is None:
        return None
    total = after["ticks_total"] - before["ticks_total"]
    idle = after["ticks_idle"] - before["ticks_idle"]
    return after["cores"] * (total - idle) / total if total > 0 else 0.0


def is_busy(load_1m: float | None, cores: int, others: float | None = None) -> bool:
    if others is not None:
        return others > BUSY_OTHERS_FRACTION * cores
    return load_1m is not None and load_1m > BUSY_FRACTION * cores


@dataclass
class LoadWindow:
    """The load average before the first and after the last timed block of one latency row, and
    the CPU ticks summed over its blocks only (not over other models' rounds in between)."""

    load_1m_before: float | None = None
    load_1m_after: float | None = None
    ticks: dict = field(default_factory=lambda: {"ticks_total": 0, "ticks_steal": 0})
    blocks: int = 0

    def add(self, before: dict, after: dict) -> None:
        if self.blocks == 0:
            self.load_1m_before = before["load_1m"]
        self.load_1m_after = after["load_1m"]
        self.blocks += 1
        for key, total in self.ticks.items():
            known = None not in (total, before.get(key), after.get(key))
            self.ticks[key] = total + after[key] - before[key] if known else None

    def as_columns(self) -> dict[str, float]:
        """Missing readings come out as NaN."""
        steal = steal_percent({"ticks_total": 0, "ticks_steal": 0}, self.ticks)
        values = (self.load_1m_before, self.load_1m_after, steal if self.blocks else None)
        names = ("load_1m_before", "load_1m_after", "steal_pct")
        return {name: math.nan if v is None else float(v) for name, v in zip(names, values)}
