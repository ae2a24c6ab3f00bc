"""Counting whole events with increase(), and where its error stops mattering.

An event-count budget's recording adds ``increase(counter[base_window])``
every ``interval`` (base_window / interval readings overlap), and a window's
count is the sum of those readings divided by that overlap. One event is
seen by every reading whose window holds the two scrapes around it: that is
base_window - scrape_interval of evaluation times, so at least
floor((w - s) / i) and at most one more of the w / i readings. A reading
that sees it is also stretched by increase()'s extrapolation to the window
edges: by w / span, where the scrapes inside a window span at least
(floor(w / s) - 1) x s with regular scrapes. One event therefore counts as
between ``low`` and ``high`` below: never 0 (as non-overlapping windows
allow when it lands between two windows' scrapes) and never much more
than 1.

Events are whole, so an alert for "more than N" compares the count against
N + 0.5: exactly 3 events read as at most 3 x high < 3.5 and stay silent, 4
read as at least 4 x low > 3.5 and fire, as long as ``separates`` holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal


@dataclass(frozen=True)
class ReadBounds:
    low: float
    high: float


def read_bounds(
    base_window: timedelta, interval: timedelta, scrape_interval: timedelta
) -> ReadBounds:
    """How much one event can count as, for regular scrapes."""
    window = base_window.total_seconds()
    step = interval.total_seconds()
    scrape = scrape_interval.total_seconds()
    shortest_span = (math.floor(window / scrape) - 1) * scrape
    if shortest_span <= 0:
        return ReadBounds(0.0, math.inf)
    seeing = math.floor((window - scrape) / step)
    readings = window / step
    return ReadBounds(seeing / readings, (seeing + 1) * step / shortest_span)


def allowed_events(threshold: Decimal) -> int:
    """The most events an alert with this threshold lets pass."""
    return math.floor(threshold)


def firing_bound(threshold: Decimal) -> Decimal:
    """What the counted events are compared against (> this fires)."""
    return allowed_events(threshold) + Decimal("0.5")


def separates(bounds: ReadBounds, allowed: int) -> bool:
    """True when ``allowed`` events never fire and one more always does."""
    bound = allowed + 0.5
    return allowed * bounds.high < bound < (allowed + 1) * bounds.low


def shortest_window(
    base_window: timedelta, interval: timedelta, hold: timedelta
) -> timedelta:
    """The shortest window whose counts come out whole: one event's readings
    span a base window, so a window must hold the allowed events counted in
    full, then one more counted in full (and its alert's ``for``), before the
    first leaves; a few evaluations of slack keep the two apart."""
    return 2 * base_window + hold + 4 * interval
