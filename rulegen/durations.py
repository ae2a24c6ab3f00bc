"""Prometheus durations: read them the way PromQL does, write them back."""

from __future__ import annotations

from datetime import timedelta

import promql_parser

ACCEPTED = "a Prometheus duration with a unit, such as 30s, 5m, 1h30m or 3d"


def parse(text: str) -> timedelta:
    """Read ``text`` as PromQL would; raise ValueError saying why not."""
    # promql-parser takes a bare number as seconds; Prometheus 2.42 does not.
    if text.strip().isdigit():
        raise ValueError("a duration needs a unit")
    try:
        parsed: timedelta = promql_parser.parse_duration(text)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return parsed


def render(duration: timedelta) -> str:
    """The shortest PromQL spelling: 90 minutes is ``1h30m``."""
    rendered: str = promql_parser.display_duration(duration)
    return rendered


def seconds(duration: timedelta) -> int:
    """Whole seconds; rulegen's durations never carry milliseconds."""
    return int(duration.total_seconds())


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
