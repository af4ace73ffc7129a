"""The statistics of an A/B test, all from scipy (nothing hand-rolled).

- a rate's confidence interval: Wilson score (`binomtest(...).proportion_ci("wilson")`);
- two rates compared: Pearson's chi-square on the 2x2 table without continuity correction
  (`chi2_contingency(correction=False)`), the same p-value as the two-sided two-proportion
  z-test and R's `prop.test(correct = FALSE)`;
- two means (CSAT) compared: Welch's t-test (`ttest_ind(equal_var=False)`), and a mean's
  interval from Student's t (`ttest_1samp(...).confidence_interval`).

An experiment's confidence level is bounded once here (`confidence_validate`); the
services, the admin form and the API's input all use it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

# Below 80 % a "winner" is mostly noise; above 99.9 % no experiment ever ends.
CONFIDENCE_MIN, CONFIDENCE_MAX = 0.8, 0.999


def confidence_validate(value: object) -> float:
    """The confidence level as a float, or ValueError naming the range."""
    try:
        confidence = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        confidence = math.nan
    if not CONFIDENCE_MIN <= confidence <= CONFIDENCE_MAX:
        raise ValueError(
            f"confidence must be between {CONFIDENCE_MIN} and {CONFIDENCE_MAX} (0.95 is usual)."
        )
    return confidence


@dataclass(frozen=True)
class Estimate:
    """One variant's figure with its confidence interval."""

    value: float | None
    low: float | None
    high: float | None


def wilson_interval(successes: int, trials: int, *, confidence: float) -> Estimate:
    if trials <= 0:
        return Estimate(None, None, None)
    interval = stats.binomtest(successes, trials).proportion_ci(
        confidence_level=confidence, method="wilson"
    )
    return Estimate(successes / trials, float(interval.low), float(interval.high))


def two_proportion_p_value(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> float:
    """Two-sided p-value that both rates are equal (1.0 when the table has an empty margin,
    where no test can tell them apart)."""
    table = np.array([[successes_a, trials_a - successes_a], [successes_b, trials_b - successes_b]])
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return 1.0
    result = stats.chi2_contingency(table, correction=False)
    return float(result.pvalue)


def mean_interval(values: Sequence[float], *, confidence: float) -> Estimate:
    if not values:
        return Estimate(None, None, None)
    mean = float(np.mean(values))
    if len(values) < 2 or float(np.std(values)) == 0.0:
        return Estimate(mean, mean, mean)
    interval = stats.ttest_1samp(values, 0.0).confidence_interval(confidence_level=confidence)
    return Estimate(mean, float(interval.low), float(interval.high))


def welch_p_value(values_a: Sequence[float], values_b: Sequence[float]) -> float:
    """Two-sided p-value of Welch's t-test; 1.0 when it cannot be computed (fewer than two
    values on a side, or no variance anywhere)."""
    if len(values_a) < 2 or len(values_b) < 2:
        return 1.0
    result = stats.ttest_ind(values_a, values_b, equal_var=False)
    p_value = float(result.pvalue)
    return 1.0 if math.isnan(p_value) else p_value
