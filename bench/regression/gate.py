"""Compare a pass with the baseline: exact counts, exact op signature, then the gated figure,
whose median fails when it grew by more than the fixed relative tolerance."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import pandas as pd

from bench.regression.model import UPDATE, GateConfig, GateError, NoComparableBaseline, Pass


def differences(baseline: dict, current: dict) -> list[str]:
    """``key: baseline -> now`` per differing fact; a list (ISA flags) is compared as a set."""
    out = []
    for key in sorted(set(baseline) | set(current)):
        b, c = baseline.get(key), current.get(key)
        if isinstance(b, list) and isinstance(c, list):
            gone, new = sorted(set(b) - set(c)), sorted(set(c) - set(b))
            if gone or new:
                out.append(f"{key}: missing {' '.join(gone) or '-'}, extra {' '.join(new) or '-'}")
        elif b != c:
            out.append(f"{key}: {b!r} -> {c!r}")
    return out


def comparable(baseline: Pass, config: GateConfig, fingerprint: dict) -> list[str]:
    """Why ``baseline`` cannot be compared with a pass under ``config`` here ([] if it can)."""
    was, now = baseline.config, config
    pairs = {
        "reference": (was.reference, now.reference),
        "input size": (was.input_size, now.input_size),
    }
    reasons = [f"{k}: baseline {b!r}, now {c!r}" for k, (b, c) in pairs.items() if b != c]
    return reasons + differences(baseline.fingerprint, fingerprint)


def require_comparable(baseline: Pass, config: GateConfig, fingerprint: dict, source: str) -> None:
    reasons = comparable(baseline, config, fingerprint)
    if reasons:
        raise NoComparableBaseline(
            f"{source} was measured under another fingerprint or settings "
            f"({'; '.join(reasons)}); re-baseline on this machine with {UPDATE} and commit "
            f"{source}, or compare with the baseline's commit measured here: "
            f"`python -m bench.regression check --other-machine remeasure`"
        )


def signature_diff(base: dict[str, list[int]], cur: dict[str, list[int]]) -> list[str]:
    """Differences such as ``clone: calls 0 -> 1, bytes 0 -> 65536``."""
    diffs = []
    for op in sorted(set(base) | set(cur)):
        b, c = base.get(op, [0, 0]), cur.get(op, [0, 0])
        if list(b) != list(c):
            diffs.append(f"{op}: calls {b[0]} -> {c[0]}, bytes {b[1]} -> {c[1]}")
    return diffs


def _verdict(name: str, base: Pass, cur: Pass, tolerance: float) -> dict:
    b, c = base.models.get(name), cur.models.get(name)
    row: dict = {"model": name, "figure": (cur if c else base).figure_of(name)}
    if b is None:
        return {**row, "verdict": "new (not gated)"}
    if c is None:
        return {**row, "verdict": "FAIL: missing"}
    if not b.samples:  # a hand-edited baseline: say so, not an internal error after the pass
        raise GateError(f"the baseline has no samples for {name}; re-baseline with {UPDATE}")
    before, now = statistics.median(b.samples), statistics.median(c.samples)
    change = now / before - 1
    row |= {"baseline": before, "now": now, "change (%)": 100 * change}
    ops = signature_diff(b.signature, c.signature)  # exact counts first, then the figure
    if c.params != b.params:
        verdict = f"FAIL: params {b.params} -> {c.params}"
    elif c.flops != b.flops:
        verdict = f"FAIL: FLOPs {b.flops} -> {c.flops}"
    elif ops:
        verdict = f"FAIL: ops changed ({'; '.join(ops[:3])}{'; ...' if len(ops) > 3 else ''})"
    elif change > tolerance:
        verdict = "FAIL: slower"
    else:
        verdict = "ok (faster: consider update)" if change < -tolerance else "ok"
    return {**row, "tolerance (%)": 100 * tolerance, "verdict": verdict}


def compare(
    baseline: Pass, current: Pass, names: Sequence[str], tolerance: float | None = None
) -> pd.DataFrame:
    """One row per model in ``names``; ``tolerance`` defaults to the baseline's."""
    tol = baseline.config.tolerance if tolerance is None else tolerance
    return pd.DataFrame([_verdict(n, baseline, current, tol) for n in names])


def missing_models(baseline: Pass, known: Sequence[str]) -> list[str]:
    return [n for n in baseline.models if n not in known]
