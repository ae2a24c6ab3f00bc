"""Prometheus durations: read them the way PromQL does, write them back."""

from __future__ import annotations

import re
from datetime import timedelta

import promql_parser

ACCEPTED = "a Prometheus duration with a unit, such as 30s, 5m, 1h30m or 3d"
# Prometheus keeps a duration in Go's time.Duration, int64 nanoseconds;
# prometheus/common's ParseDuration calls anything longer "out of range".
LONGEST = timedelta(seconds=(2**63 - 1) // 10**9)
LONGEST_TEXT = "at most 106751d23h47m16s (about 292 years, Prometheus's longest)"
# promql-parser reads each number into 32 bits and, past that, says
# "duration must be greater than 0".
LARGEST_NUMBER = 2**32 - 1
UNIT_MILLISECONDS = {
    "y": 365 * 86_400_000,
    "w": 7 * 86_400_000,
    "d": 86_400_000,
    "h": 3_600_000,
    "m": 60_000,
    "s": 1000,
    "ms": 1,
}
PART = re.compile(r"([0-9]+)(ms|[ywdhms])")


class TooLongError(ValueError):
    """A duration longer than Prometheus reads."""


def parse(text: str) -> timedelta:
    """Read ``text`` as PromQL would; raise ValueError saying why not, and
    TooLongError for a duration past LONGEST."""
    # promql-parser takes a bare number as seconds; Prometheus 2.42 does not.
    if text.strip().isdigit():
        raise ValueError("a duration needs a unit")
    _check_range(text)
    try:
        parsed: timedelta = promql_parser.parse_duration(text)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return parsed


def _check_range(text: str) -> None:
    """Judge the size of a well-formed duration before promql-parser, whose
    numbers wrap (a malformed one is left to it to describe)."""
    parts = PART.findall(text)
    if "".join(number + unit for number, unit in parts) != text:
        return
    total = sum(int(number) * UNIT_MILLISECONDS[unit] for number, unit in parts)
    if total > LONGEST / timedelta(milliseconds=1):
        raise TooLongError(text)
    for number, unit in parts:
        if int(number) > LARGEST_NUMBER:
            raise ValueError(
                f"{number}{unit} is more than {LARGEST_NUMBER} of one unit; "
                "write it in a larger unit"
            )


def render(duration: timedelta) -> str:
    """The shortest PromQL spelling: 90 minutes is ``1h30m``."""
    rendered: str = promql_parser.display_duration(duration)
    return rendered


def seconds(duration: timedelta) -> int:
    """Whole seconds; rulegen's durations never carry milliseconds."""
    return int(duration.total_seconds())


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
