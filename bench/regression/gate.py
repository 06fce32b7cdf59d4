"""Compare a pass with the baseline: exact counts, exact op signature, then the gated figure."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import pandas as pd

from bench.regression.fingerprint import differences
from bench.regression.model import GateConfig, GateError, NoComparableBaseline, Pass
from bench.regression.signature import signature_diff
from bench.regression.stats import decide


def comparable(baseline: Pass, config: GateConfig, fingerprint: dict) -> list[str]:
    """Why ``baseline`` cannot be compared with a pass under ``config`` here ([] if it can)."""
    reasons = [
        f"{k}: baseline {b!r}, now {c!r}"
        for k, b, c in zip(
            ("signal", "reference", "input size"),
            baseline.config.comparable_key(),
            config.comparable_key(),
        )
        if b != c
    ]
    return reasons + differences(baseline.fingerprint, fingerprint)


def require_comparable(baseline: Pass, config: GateConfig, fingerprint: dict, source: str) -> None:
    reasons = comparable(baseline, config, fingerprint)
    if reasons:
        raise NoComparableBaseline(
            f"{source} was measured under another fingerprint or settings "
            f"({'; '.join(reasons)}); re-baseline on this machine with `python -m "
            f"bench.regression update` and commit {source}, or compare with the baseline's "
            f"commit measured here: `python -m bench.regression check --other-machine remeasure`"
        )


def _verdict(name: str, base: Pass, cur: Pass, tolerance: float | None) -> dict:
    b, c = base.models.get(name), cur.models.get(name)
    row: dict = {"model": name, "figure": (cur if c else base).figure_of(name)}
    if b is None:
        return {**row, "verdict": "new (not gated)"}
    if c is None:
        return {**row, "verdict": "FAIL: missing"}
    if not b.samples:  # a hand-edited baseline: say so, not an internal error after the pass
        raise GateError(
            f"the baseline has no samples for {name}; re-baseline with "
            f"`python -m bench.regression update`"
        )
    gated = cur.figure_of(name) != "(not gated)"
    decision = decide(b.samples, c.samples, base.config.floor, base.config.alpha, tolerance)
    row |= {
        "baseline": statistics.median(b.samples),
        "now": statistics.median(c.samples),
        "change (%)": 100 * decision.change if gated else None,
        "tolerance (%)": 100 * decision.tolerance if gated else None,
        "p": decision.p_value if gated else None,
    }
    ops = signature_diff(b.signature, c.signature)
    if c.params != b.params:
        verdict = f"FAIL: params {b.params} -> {c.params}"
    elif c.flops != b.flops:
        verdict = f"FAIL: FLOPs {b.flops} -> {c.flops}"
    elif ops:
        verdict = f"FAIL: ops changed ({'; '.join(ops[:3])}{'; ...' if len(ops) > 3 else ''})"
    elif gated and decision.regressed:
        verdict = "FAIL: slower"
    elif gated and decision.faster:
        verdict = "ok (faster: consider update)"
    else:
        verdict = "ok"
    return {**row, "verdict": verdict}


def compare(
    baseline: Pass, current: Pass, names: Sequence[str], tolerance: float | None = None
) -> pd.DataFrame:
    """One row per model in ``names`` (the models this check ran); ``tolerance`` overrides all.

    A baselined model the check did not run is not reported, except when the check ran every
    registered model: then a baselined model that no longer exists fails as missing.
    """
    rows = [_verdict(n, baseline, current, tolerance) for n in names]
    return pd.DataFrame(rows)


def missing_models(baseline: Pass, known: Sequence[str]) -> list[str]:
    """Baselined models that are no longer registered."""
    return [n for n in baseline.models if n not in known]
