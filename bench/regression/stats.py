"""When is a change a regression: larger than the model's tolerance *and* significant.

The tolerance of a model comes from its own noise: the robust relative spread of its samples
(1.4826 x MAD / median, i.e. a standard deviation for Gaussian noise), turned into the 3-sigma
threshold on the difference of two medians-of-n, never below a floor (default 3 %). Significance
is a one-sided Mann-Whitney U test (asv's choice) of "current samples are larger". Deterministic
instruction counts have a spread of ~0, so their tolerance is the floor, and the test is passed
by any shift larger than it that separates the two sample sets completely.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import mannwhitneyu

FLOOR = 0.03
ALPHA = 0.01


def relative_noise(samples: Sequence[float]) -> float:
    """Robust relative standard deviation of one sample (0 for fewer than 2 samples)."""
    if len(samples) < 2:
        return 0.0
    med = statistics.median(samples)
    mad = statistics.median(abs(s - med) for s in samples)
    return 1.4826 * mad / med if med > 0 else math.inf


def tolerance(base: Sequence[float], n_current: int, floor: float = FLOOR) -> float:
    """3-sigma threshold on the relative change of the median, at least ``floor``."""
    sigma = relative_noise(base)
    return max(floor, 3 * sigma * math.sqrt(1 / len(base) + 1 / max(n_current, 1)))


@dataclass(frozen=True)
class Decision:
    change: float  # current median / baseline median - 1
    tolerance: float
    p_value: float  # one-sided Mann-Whitney U, "current is larger"
    regressed: bool
    faster: bool  # faster beyond the tolerance: the baseline is stale


def decide(
    base: Sequence[float],
    current: Sequence[float],
    floor: float = FLOOR,
    alpha: float = ALPHA,
    fixed_tolerance: float | None = None,
) -> Decision:
    """Compare two sample sets of one figure (larger = slower)."""
    if not base or not current:
        raise ValueError("decide() needs at least one baseline and one current sample")
    change = statistics.median(current) / statistics.median(base) - 1
    tol = fixed_tolerance if fixed_tolerance is not None else tolerance(base, len(current), floor)
    if min(current) > max(base):
        p = _separated_p(len(base), len(current))
    else:
        p = float(mannwhitneyu(current, base, alternative="greater").pvalue)
    # For a practically deterministic figure (noise under a tenth of the floor: instruction
    # counts), complete separation is as significant as a few repeats can show; asking for
    # p < alpha would only demand more repeats of the same number. Noisy figures need the test.
    deterministic = relative_noise(base) < floor / 10 and relative_noise(current) < floor / 10
    significant = p < alpha or (deterministic and min(current) > max(base))
    return Decision(
        float(change), float(tol), float(p), bool(change > tol and significant), bool(change < -tol)
    )


def _separated_p(n_base: int, n_current: int) -> float:
    """Exact one-sided p of complete separation: 1 / C(n + m, m)."""
    return 1 / math.comb(n_base + n_current, n_current)
