"""Latency histograms over fixed, log-spaced edges, so roll-ups can be merged.

A percentile cannot be averaged across hours, but counts per bin can be added: a bucket
keeps `counts` (a list of ints, one per bin) and any range of buckets is merged by adding
them up, then read with `histogram_percentile`. Ten bins per decade from 1 ms to 1,000 s
bound the error of an interpolated percentile by the width of one bin (about 26%), and
in practice it is far smaller.

Bin 0 holds values below EDGES[0]; bin i (1 <= i < len(EDGES)) holds
[EDGES[i - 1], EDGES[i]); the last bin holds values of EDGES[-1] and above.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from operator import add

BINS_PER_DECADE = 10
DECADES = 6  # 1 ms .. 1,000,000 ms
EDGES: tuple[float, ...] = tuple(
    round(10 ** (step / BINS_PER_DECADE), 6) for step in range(BINS_PER_DECADE * DECADES + 1)
)
BIN_COUNT = len(EDGES) + 1

Histogram = list[int]


def histogram_bin(value: float) -> int:
    """The index of the bin `value` (milliseconds, >= 0) falls into."""
    return bisect_right(EDGES, value)


def histogram_of(values: Iterable[float]) -> Histogram:
    """Count `values` into a new histogram; an empty input gives [] (nothing to store)."""
    counts = [0] * BIN_COUNT
    seen = False
    for value in values:
        counts[histogram_bin(value)] += 1
        seen = True
    return counts if seen else []


def histogram_merge(histograms: Iterable[Histogram | None]) -> Histogram:
    """Add histograms bin by bin; empty or missing ones count as nothing."""
    total = [0] * BIN_COUNT
    seen = False
    for counts in histograms:
        if not counts:
            continue
        seen = True
        if len(counts) != BIN_COUNT:  # stored by an older or newer layout: align it
            counts = [*counts[:BIN_COUNT], *[0] * (BIN_COUNT - len(counts))]
        total = list(map(add, total, counts))  # map/add: C speed, dashboards merge thousands
    return total if seen else []


def histogram_count(counts: Histogram | None) -> int:
    return sum(counts or [])


def histogram_percentile(counts: Histogram | None, fraction: float) -> float | None:
    """The `fraction` quantile (0.5 for p50), interpolated linearly inside its bin.

    None when the histogram is empty. A value in the open-ended last bin reads as the
    last edge: "at least this".
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be between 0 and 1")
    total = histogram_count(counts)
    if not counts or total == 0:
        return None
    rank = fraction * total
    running = 0
    for index, count in enumerate(counts):
        if count == 0:
            continue
        if running + count >= rank:
            if index >= len(EDGES):
                return EDGES[-1]
            low = 0.0 if index == 0 else EDGES[index - 1]
            high = EDGES[index]
            inside = (rank - running) / count
            return low + (high - low) * inside
        running += count
    return EDGES[-1]


def histogram_summary(counts: Histogram | None) -> dict[str, float | None]:
    """p50 and p95 in whole milliseconds (None when nothing was measured)."""
    return {
        name: None if value is None else float(math.floor(value + 0.5))
        for name, value in (
            ("p50", histogram_percentile(counts, 0.50)),
            ("p95", histogram_percentile(counts, 0.95)),
        )
    }
