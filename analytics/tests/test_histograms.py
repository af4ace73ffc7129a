"""Percentiles read from fixed-edge histograms against values known by construction."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from analytics.histograms import (
    BIN_COUNT,
    EDGES,
    histogram_bin,
    histogram_count,
    histogram_merge,
    histogram_of,
    histogram_percentile,
    histogram_summary,
)


def exact(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def test_the_edges_are_ten_per_decade_from_1_ms_to_1000_s() -> None:
    assert EDGES[0] == 1.0 and EDGES[10] == 10.0 and EDGES[-1] == 1_000_000.0
    assert all(b / a == pytest.approx(10**0.1, rel=1e-5) for a, b in pairwise(EDGES))
    assert BIN_COUNT == 62


@pytest.mark.parametrize(
    ("value", "index"), [(0, 0), (0.99, 0), (1, 1), (9.99, 10), (10, 11), (2e6, 61)]
)
def test_a_value_falls_into_the_bin_of_its_edges(value: float, index: int) -> None:
    assert histogram_bin(value) == index


def test_values_on_the_edges_give_exact_percentiles() -> None:
    # 100 values: 10 ms x 50, 100 ms x 45, 1000 ms x 5 — each at the top edge of a bin.
    counts = histogram_of([9.99] * 50 + [99.9] * 45 + [999] * 5)
    assert histogram_percentile(counts, 0.50) == pytest.approx(10.0)
    assert histogram_percentile(counts, 0.95) == pytest.approx(100.0)
    assert histogram_percentile(counts, 1.0) == pytest.approx(1000.0)


def test_uniform_values_read_within_a_few_percent() -> None:
    values = [float(v) for v in range(1, 1001)]  # p50 = 500, p95 = 950
    counts = histogram_of(values)
    assert histogram_percentile(counts, 0.50) == pytest.approx(500, rel=0.03)
    assert histogram_percentile(counts, 0.95) == pytest.approx(950, rel=0.03)


def test_lognormal_latencies_read_within_one_bin() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(6.0, 0.8) for _ in range(20_000)]  # median e^6 ~ 403 ms
    counts = histogram_of(values)
    for fraction in (0.5, 0.95, 0.99):
        assert histogram_percentile(counts, fraction) == pytest.approx(
            exact(values, fraction), rel=0.05
        )


def test_merging_is_the_histogram_of_all_the_values() -> None:
    rng = random.Random(3)
    parts = [[rng.uniform(0, 5000) for _ in range(300)] for _ in range(24)]
    merged = histogram_merge(histogram_of(p) for p in parts)
    assert merged == histogram_of([v for p in parts for v in p])
    assert histogram_count(merged) == 7200


def test_empty_histograms_have_no_percentiles() -> None:
    assert histogram_of([]) == []
    assert histogram_merge([[], None]) == []
    assert histogram_percentile([], 0.5) is None
    assert histogram_summary(None) == {"p50": None, "p95": None}


def test_a_value_past_the_last_edge_reads_as_at_least_that() -> None:
    assert histogram_percentile(histogram_of([5e6]), 0.5) == 1_000_000.0


def test_the_summary_is_in_whole_milliseconds() -> None:
    # p50: halfway through the 95 values of the bin [7.94, 10) -> 9.03 -> 9.
    assert histogram_summary(histogram_of([9.99] * 95 + [99.9] * 5)) == {"p50": 9.0, "p95": 10.0}
