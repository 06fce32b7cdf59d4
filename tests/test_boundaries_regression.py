"""The regression gate's decision at its boundaries (mutation run, issue 14): the tolerance's
exact size (a silently doubled tolerance must fail here), a change exactly at the tolerance,
the floor, and the p-value of two completely separated sample sets."""

from __future__ import annotations

import math

import pytest
from scipy.stats import mannwhitneyu

from bench.regression import GateConfig, ModelFigures, Pass, compare
from bench.regression.stats import FLOOR, decide, relative_noise, tolerance

BASE = [0.9, 1.0, 1.1]  # median 1.0, MAD 0.1


def test_tolerance_is_three_robust_sigmas_of_a_difference_of_medians() -> None:
    sigma = 1.4826 * 0.1
    assert relative_noise(BASE) == pytest.approx(sigma)
    assert tolerance(BASE, 3) == pytest.approx(3 * sigma * math.sqrt(1 / 3 + 1 / 3))  # 0.363
    assert tolerance(BASE, 12) == pytest.approx(3 * sigma * math.sqrt(1 / 3 + 1 / 12))
    assert tolerance(BASE, 0) == pytest.approx(3 * sigma * math.sqrt(1 / 3 + 1))  # n counted as 1


def test_tolerance_never_drops_below_the_floor() -> None:
    assert tolerance([1.0] * 5, 5) == FLOOR == 0.03
    assert tolerance([1.0] * 5, 5, floor=0.07) == 0.07
    assert tolerance(BASE, 3, floor=0.5) == 0.5  # the floor wins over a smaller 3-sigma


def test_relative_noise_of_degenerate_samples() -> None:
    assert relative_noise([]) == 0.0 and relative_noise([2.0]) == 0.0
    assert relative_noise([0.0, 0.0, 1.0]) == math.inf  # median 0: no relative scale
    assert relative_noise([2.0, 2.0]) == 0.0


def test_a_change_exactly_at_the_tolerance_passes_and_just_above_fails() -> None:
    base = [1.0, 1.0, 1.0, 1.0]
    at = decide(base, [1.25] * 4, fixed_tolerance=0.25)
    assert at.change == 0.25 and at.tolerance == 0.25
    assert not at.regressed and not at.faster
    assert decide(base, [1.2500001] * 4, fixed_tolerance=0.25).regressed
    assert not decide(base, [0.75] * 4, fixed_tolerance=0.25).faster  # exactly -tolerance
    assert decide(base, [0.7499999] * 4, fixed_tolerance=0.25).faster


def test_the_doubled_tolerance_would_let_this_regression_through() -> None:
    base = [0.9, 1.0, 1.1] * 4  # 12 samples, same spread
    tol = tolerance(base, 12)  # 3 sigma sqrt(2/12) = 0.18
    slower = [v * (1 + 1.5 * tol) for v in base]  # beyond the tolerance, under twice it
    decision = decide(base, slower)
    assert decision.tolerance == pytest.approx(tol) and decision.regressed


def test_separated_samples_have_the_exact_p_value() -> None:
    decision = decide([1.0, 1.01, 1.02], [2.0, 2.01, 2.02])
    assert decision.p_value == pytest.approx(1 / math.comb(6, 3))  # 0.05


def test_deterministic_figures_regress_on_complete_separation_alone() -> None:
    # Noise under a tenth of the floor: p = 1/C(4, 2) = 0.17 > alpha, but the shift is real.
    assert decide([1000.0, 1000.1], [1100.0, 1100.1]).regressed
    # Noise 0.44 %, above a tenth of the floor: the U test decides, and 2 + 2 samples cannot pass.
    assert relative_noise([1000.0, 1006.0]) > FLOOR / 10
    assert not decide([1000.0, 1006.0], [1100.0, 1106.0]).regressed
    assert relative_noise([1000.0, 1004.0]) < FLOOR / 10  # 0.30 %: deterministic again
    assert decide([1000.0, 1004.0], [1100.0, 1104.0]).regressed


def test_empty_samples_are_refused() -> None:
    message = "^decide\\(\\) needs at least one baseline and one current sample$"
    with pytest.raises(ValueError, match=message):
        decide([], [1.0])
    with pytest.raises(ValueError, match=message):
        decide([1.0], [])


def test_the_floor_given_to_decide_sets_the_tolerance() -> None:
    decision = decide([1.0] * 4, [1.1] * 4, floor=0.2)
    assert decision.tolerance == 0.2 and not decision.regressed


def test_p_is_one_sided_and_exact_only_for_strict_separation() -> None:
    base, current = [1.0, 2.0, 3.0, 4.0, 5.0], [3.0, 4.0, 5.0, 6.0, 7.0]
    one_sided = mannwhitneyu(current, base, alternative="greater").pvalue
    assert decide(base, current).p_value == pytest.approx(one_sided)  # not the two-sided 2x
    touching = decide([1.0, 2.0, 3.0], [3.0, 4.0, 5.0])  # min(current) == max(base): a tie
    assert touching.p_value == pytest.approx(
        mannwhitneyu([3.0, 4.0, 5.0], [1.0, 2.0, 3.0], alternative="greater").pvalue
    )
    assert touching.p_value != pytest.approx(1 / math.comb(6, 3))


def test_p_equal_to_alpha_is_not_significant() -> None:
    base, current = [1.0, 1.1, 1.2], [2.0, 2.1, 2.2]  # noisy, separated: p = 1/20 exactly
    assert not decide(base, current, alpha=0.05).regressed
    assert decide(base, current, alpha=0.0500001).regressed


def test_separation_alone_needs_both_sides_deterministic() -> None:
    deterministic, noisy = [1000.0, 1000.1], [1000.0, 1100.0]  # noise 0.01 % and 7 %
    assert not decide(deterministic, [1200.0, 1300.0]).regressed  # current noisy: p = 1/6
    assert not decide(noisy, [1200.0, 1200.1]).regressed  # baseline noisy
    assert decide(deterministic, [1200.0, 1200.1]).regressed
    # Current noise 0.296 %, between floor / 11 and floor / 10: still deterministic.
    assert FLOOR / 11 < relative_noise([1100.0, 1104.4]) < FLOOR / 10
    assert decide([1000.0, 1000.1], [1100.0, 1104.4]).regressed


@pytest.mark.parametrize("side", ["baseline", "current"])
def test_noise_exactly_a_tenth_of_the_floor_is_not_deterministic(side: str) -> None:
    edge = [1.0, 1.0028] if side == "baseline" else [2.0, 2.0056]  # floor * 10 / 10 is exact
    floor = 10 * relative_noise(edge)
    assert floor / 10 == relative_noise(edge)
    base, current = (edge, [1.5, 1.5]) if side == "baseline" else ([1.0, 1.0], edge)
    assert not decide(base, current, floor=floor).regressed  # 2 + 2 samples: p = 1/6


def test_separation_with_a_tie_is_not_enough_for_deterministic_figures() -> None:
    base, current = [1000.0, 1000.0, 1000.5], [1000.5, 1100.0, 1100.0]  # both noise-free medians
    assert relative_noise(base) < FLOOR / 10 and relative_noise(current) < FLOOR / 10
    assert not decide(base, current).regressed


def _gate_pass(samples: dict[str, list[float]]) -> Pass:
    sig = {"conv2d": [3, 4096]}
    models = {n: ModelFigures(1000, 5000, dict(sig), list(s), list(s)) for n, s in samples.items()}
    return Pass(GateConfig(reference="ref"), {}, "c0ffee", [], models)


def test_a_tolerance_given_to_the_gate_reaches_every_verdict() -> None:
    base = _gate_pass({"net": [1.0, 1.0, 1.0]})
    slower = _gate_pass({"net": [1.1, 1.1, 1.1]})  # +10 %: over the 3 % floor
    assert compare(base, slower, ["net"]).iloc[0]["verdict"] == "FAIL: slower"
    row = compare(base, slower, ["net"], tolerance=0.2).iloc[0]
    assert row["verdict"] == "ok" and row["tolerance (%)"] == pytest.approx(20.0)
    missing = compare(base, _gate_pass({}), ["net"]).iloc[0]
    assert missing["verdict"] == "FAIL: missing"
