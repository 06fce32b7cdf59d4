"""CI latency regression gate: ``python -m bench.regression check|update|record|history|bisect``.

Timings of unchanged code move by tens of percent on a shared machine, so the gate counts
instructions instead (valgrind's callgrind, as ``torch.utils.benchmark``'s ``collect_callgrind``
and CodSpeed do): one forward per model and repeat, at 64x64, one thread. Gated, per model:

* params and fvcore FLOPs, exactly;
* the op signature (aten operators by type, bytes they write), exactly: catches FLOP-neutral
  changes such as an extra copy, ``contiguous`` or ``cat``;
* instructions relative to the reference model's in the same pass (the reference itself on its
  instruction count): counts repeat to about 0.1 %, so a change beyond a fixed relative
  tolerance (3 %) fails.

The baseline records the environment fingerprint (CPU and ISA flags, torch, Python, valgrind);
a check under another fingerprint refuses (exit 4) or, with ``--other-machine remeasure``,
measures the baseline's own commit on this machine and compares with that.
"""
