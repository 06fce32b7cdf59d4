"""CI latency regression gate: ``python -m bench.regression check|update|record|history|bisect``.

On a shared 2-core box, timings of unchanged code moved by up to 85 % (wall) and 26 % (CPU time
ratios), so the gate counts instructions instead (valgrind's callgrind, as
``torch.utils.benchmark``'s ``collect_callgrind`` and CodSpeed do): one forward per model and
repeat, at 64x64, one thread. Gated, per model:

* params and fvcore FLOPs, exactly;
* the op signature (aten operators by type, bytes they write), exactly: catches FLOP-neutral
  changes such as an extra copy, ``contiguous`` or ``cat``;
* instructions relative to the reference model's in the same pass (the reference itself on its
  instruction count), failing when the change is larger than the model's tolerance (its own
  noise, at least 3 %) *and* significant (one-sided Mann-Whitney U).

The baseline records the environment fingerprint (CPU and ISA flags, torch, Python, valgrind);
a check under another fingerprint refuses (exit 4) or, with ``--other-machine remeasure``,
measures the baseline's own commit on this machine and compares with that.
"""

from bench.regression.gate import comparable, compare
from bench.regression.model import (
    BASELINE,
    GateConfig,
    GateError,
    ModelFigures,
    NoComparableBaseline,
    Pass,
)
from bench.regression.stats import Decision, decide

__all__ = [
    "BASELINE",
    "Decision",
    "GateConfig",
    "GateError",
    "ModelFigures",
    "NoComparableBaseline",
    "Pass",
    "comparable",
    "compare",
    "decide",
]
