"""The regression gate's decision at its boundaries (mutation run, issue 14): the tolerance's
exact size (a silently doubled tolerance must fail here), a change exactly at the tolerance,
the floor, and the p-value of two completely separated sample sets."""

from __future__ import annotations

import math

import pytest

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
    with pytest.raises(ValueError, match="at least one baseline and one current sample"):
        decide([], [1.0])
    with pytest.raises(ValueError, match="at least one baseline and one current sample"):
        decide([1.0], [])
