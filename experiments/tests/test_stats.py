"""The statistics against published reference values (and scipy's own sibling routines).

References, each reproducible in R:
- `prop.test(c(200, 260), c(1000, 1000), correct = FALSE)`:
  X-squared = 10.164, df = 1, p-value = 0.001432 (two-sided; the z-test's z = 3.188).
- `prop.test(200, 1000, correct = FALSE)$conf.int`: 0.1763771 0.2259190 (Wilson score).
- Wilson (1927) for 0 successes of 10 at 95 %: [0, 0.2775].
- `t.test(c(4, 5, 3, 4, 5), c(2, 3, 3, 4, 2))` (Welch): t = 2.6458, df = 8, p-value = 0.02945.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

from experiments.stats import (
    mean_interval,
    two_proportion_p_value,
    welch_p_value,
    wilson_interval,
)


def test_two_proportions_match_r_prop_test_without_correction() -> None:
    p_value = two_proportion_p_value(200, 1000, 260, 1000)
    assert p_value == pytest.approx(0.001432, abs=5e-7)


def test_two_proportions_equal_the_two_sided_z_test() -> None:
    pooled = 460 / 2000
    z = (0.26 - 0.20) / math.sqrt(pooled * (1 - pooled) * (2 / 1000))
    assert z == pytest.approx(3.188, abs=1e-3)
    assert two_proportion_p_value(200, 1000, 260, 1000) == pytest.approx(2 * stats.norm.sf(z))


def test_identical_rates_are_not_different() -> None:
    assert two_proportion_p_value(50, 500, 50, 500) == pytest.approx(1.0)


def test_a_table_with_no_conversions_at_all_is_not_a_difference() -> None:
    assert two_proportion_p_value(0, 300, 0, 300) == 1.0


def test_wilson_interval_matches_r() -> None:
    estimate = wilson_interval(200, 1000, confidence=0.95)
    assert estimate.value == pytest.approx(0.2)
    assert estimate.low == pytest.approx(0.1763771, abs=1e-7)
    assert estimate.high == pytest.approx(0.2259190, abs=1e-7)


def test_wilson_interval_stays_inside_zero_and_one() -> None:
    estimate = wilson_interval(0, 10, confidence=0.95)
    assert estimate.low == 0.0
    assert estimate.high == pytest.approx(0.2775, abs=1e-4)


def test_no_trials_has_no_estimate() -> None:
    assert wilson_interval(0, 0, confidence=0.95).value is None


def test_welch_matches_r_t_test() -> None:
    assert welch_p_value([4, 5, 3, 4, 5], [2, 3, 3, 4, 2]) == pytest.approx(0.02945, abs=5e-6)


def test_welch_uses_unequal_variances() -> None:
    a, b = [5, 5, 4, 5, 5, 4, 5], [1, 5, 2, 4, 3, 5, 1, 2]
    var_a, var_b = stats.tvar(a) / len(a), stats.tvar(b) / len(b)
    t = (stats.tmean(a) - stats.tmean(b)) / math.sqrt(var_a + var_b)
    df = (var_a + var_b) ** 2 / (var_a**2 / (len(a) - 1) + var_b**2 / (len(b) - 1))
    assert welch_p_value(a, b) == pytest.approx(2 * stats.t.sf(abs(t), df))


def test_welch_needs_two_values_a_side() -> None:
    assert welch_p_value([5], [1, 2, 3]) == 1.0


def test_mean_interval_is_students_t() -> None:
    estimate = mean_interval([4, 5, 3, 4, 5], confidence=0.95)
    assert estimate.value == pytest.approx(4.2)
    half = stats.t.ppf(0.975, 4) * stats.sem([4, 5, 3, 4, 5])
    assert (estimate.low, estimate.high) == pytest.approx((4.2 - half, 4.2 + half))
