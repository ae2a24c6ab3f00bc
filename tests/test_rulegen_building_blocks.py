"""The small pieces the generator is built from, with exact values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from rulegen import decimals, durations, eventcount, expressions
from rulegen.promtests import series
from rulegen.recordings import bucket_bounds

S = timedelta(seconds=1)
M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 10, 20, 30], "0+10x3"),
        ([0, 0, 0, 5, 10, 15, 15], "0x2 5+5x2 15"),
        ([3], "3"),
        ([9, 6, 3], "9-3x2"),
        ([0, 0, 1, 1, 2], "0x1 1x1 2"),
    ],
    ids=["one-run", "flat-climb-one", "single", "falling", "steps"],
)
def test_series_notation_expands_back_to_the_values(values, expected):
    assert series.notation(values) == expected


def test_cumulative_starts_at_zero():
    assert series.cumulative([5, 0, 2]) == [0, 5, 5, 7]


@pytest.mark.parametrize(
    ("scrape", "low", "high", "three_from_four"),
    [
        (15 * S, 0.9, 40 / 39, True),
        (60 * S, 0.9, 10 / 9, True),
        (59 * S, 0.9, 600 / 531, True),
        (90 * S, 0.8, 1.2, False),
    ],
    ids=["15s", "60s", "59s", "90s"],
)
def test_one_event_reads_within_its_bounds(scrape, low, high, three_from_four):
    bounds = eventcount.read_bounds(10 * M, M, scrape)
    assert bounds.low == pytest.approx(low)
    assert bounds.high == pytest.approx(high)
    assert eventcount.separates(bounds, 3) is three_from_four


def test_tiles_can_lose_an_event_between_two_windows():
    assert eventcount.read_bounds(5 * M, 5 * M, M).low == 0


@pytest.mark.parametrize(
    ("threshold", "bound"),
    [(Decimal(3), Decimal("3.5")), (Decimal("2.4"), Decimal("2.5"))],
    ids=["whole", "fraction"],
)
def test_counts_fire_half_an_event_above_the_events_allowed(threshold, bound):
    assert eventcount.firing_bound(threshold) == bound


@pytest.mark.parametrize(
    ("threshold", "spellings"),
    [
        (Decimal(60), ("60", "60.0")),
        (Decimal("0.25"), ("0.25",)),
        (Decimal("2.5"), ("2.5",)),
    ],
    ids=["60", "0.25", "2.5"],
)
def test_bucket_bounds_cover_go_and_python_spellings(threshold, spellings):
    assert bucket_bounds(threshold) == spellings


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (Decimal("1E+1"), "10"),
        (Decimal("0.720"), "0.72"),
        (Decimal("0.0144"), "0.0144"),
    ],
    ids=["exponent", "trailing-zero", "small"],
)
def test_numbers_are_written_plainly(number, text):
    assert decimals.render(number) == text


def test_the_longest_duration_is_prometheus_int64_nanoseconds():
    longest = durations.parse("106751d23h47m16s")

    assert longest == durations.LONGEST
    assert durations.render(longest) in durations.LONGEST_TEXT
    assert longest.total_seconds() * 10**9 <= 2**63 - 1
    assert (longest.total_seconds() + 1) * 10**9 > 2**63 - 1


def test_durations_round_trip_in_promql_spelling():
    assert durations.render(durations.parse("90m")) == "1h30m"
    assert durations.render(timedelta(hours=1) - timedelta(minutes=2.5)) == "57m30s"


def test_label_values_are_quoted_for_promql():
    assert expressions.quote('a"b\\c') == '"a\\"b\\\\c"'
