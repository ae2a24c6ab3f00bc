"""Test scenarios from the burn-rate formulas, checked against a simulation.

A burn starts after clean history as long as the longest window it could
make fire (plus one base window), so that those windows are full when it
starts: a 3d window with 2h of data would behave like a 2h window.

For a tier with long window L, threshold t (an error ratio) and ``for`` F,
an error ratio r > t starting at T0 makes the long-window ratio r x m / L
after m minutes, so the tier becomes active once m > L x t / r and fires F
later: the expected detection time is L x t / r + F, rounded to whole
evaluations. A short window S empties S after recovery, so the alert
resets within S of it (within L when there is no short window). Each check
states one of these times; the simulation must agree, or the build stops.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from fractions import Fraction

from rulegen import durations, eventcount
from rulegen.decimals import render as render_decimal
from rulegen.promtests.inputs import Traffic
from rulegen.promtests.simulation import Simulation
from rulegen.recordings import bucket_bounds
from rulegen.spec.model import (
    SLO,
    Alert,
    EventCountSLI,
    EventsRatioSLI,
    LatencySLI,
    Tier,
)

MINUTE = 60
ABOVE = Fraction(11, 10)  # "just above" a threshold
BELOW = Fraction(9, 10)  # "just below"


@dataclass(frozen=True)
class AlertCheck:
    at: int  # minute
    alert: Alert
    firing: bool


@dataclass(frozen=True)
class ValueCheck:
    """The recording ``record`` (of window ``window``) at minute ``at``: a
    value, or None for "nothing recorded"."""

    at: int
    record: str
    value: Fraction | None


@dataclass
class Scenario:
    name: str
    traffic: Traffic
    alerts: list[AlertCheck] = field(default_factory=list)
    values: list[ValueCheck] = field(default_factory=list)
    sample_seconds: int = MINUTE
    without_bad_series: bool = False
    bucket_bound: str | None = None  # latency: how the series spell `le`


class Plan:
    """Shared numbers for one SLO's scenarios, all in minutes."""

    def __init__(
        self,
        slo: SLO,
        scrape_interval: timedelta,
        record_names: Callable[[int], str],
    ) -> None:
        self.slo = slo
        self.scrape_seconds = int(scrape_interval.total_seconds())
        self.step = _minutes(slo.interval.total_seconds())
        self.base = _minutes(slo.base_window.total_seconds())
        self.longest = max(_minutes(w.total_seconds()) for w in slo.windows)
        self.record_names = record_names
        thresholds = [t.threshold for a in slo.alerts for t in a.tiers]
        # Events per minute: enough that 0.9 x the smallest threshold is
        # still at least 10 bad events a minute.
        self.rate = 1000
        if not isinstance(slo.sli, EventCountSLI):
            while Fraction(min(thresholds)) * BELOW * self.rate < 10:
                self.rate *= 10

    def ceil(self, minutes: int | Fraction) -> int:
        return math.ceil(minutes / self.step) * self.step

    def floor(self, minutes: int | Fraction) -> int:
        return math.floor(minutes / self.step) * self.step

    def history(self, alert: Alert, ratio: Fraction) -> int:
        """Minutes of clean traffic before a burn at ``ratio``: the longest
        window of every tier that ratio can make fire, plus a base window, so
        that those windows are full and dilute the burn as in production."""
        windows = [
            w for t in alert.tiers if Fraction(t.threshold) < ratio for w in t.windows
        ]
        if not windows:
            return 0
        return self.ceil(_minutes(max(windows).total_seconds()) + self.base)

    def hold(self, alert: Alert) -> int:
        return self.ceil(_minutes(alert.for_.total_seconds()))

    def traffic(
        self, end: int, bad: Callable[[int], int], total: int | None = None
    ) -> Traffic:
        """Per-minute increments for minutes 1..end; ``bad(m)`` per minute."""
        rate = self.rate if total is None else total
        return Traffic([rate] * end, [bad(m) for m in range(1, end + 1)])


def ratio_scenarios(plan: Plan) -> list[Scenario]:
    found = []
    for alert in plan.slo.alerts:
        for index, tier in enumerate(alert.tiers):
            found.append(_fires_and_resets(plan, alert, index, tier))
            below = _silent_below(plan, alert, index, tier)
            if below is not None:
                found.append(below)
    found.append(_no_traffic(plan))
    if isinstance(plan.slo.sli, EventsRatioSLI):
        found.append(_absent_bad(plan))
    if isinstance(plan.slo.sli, LatencySLI):
        found += _bucket_spellings(plan)
    return found


def _fires_and_resets(plan: Plan, alert: Alert, index: int, tier: Tier) -> Scenario:
    threshold = Fraction(tier.threshold)
    bad_rate = min(plan.rate, math.ceil(threshold * ABOVE * plan.rate))
    ratio = Fraction(bad_rate, plan.rate)
    long_window = _minutes(tier.long_window.total_seconds())
    detection = long_window * threshold / ratio
    start = plan.history(alert, ratio)
    fires_at = start + plan.floor(detection) + plan.step + plan.hold(alert)
    recovered = fires_at
    tail = max(_minutes(_shortest(t).total_seconds()) for t in alert.tiers)
    traffic = plan.traffic(
        recovered + tail + plan.step,
        lambda m: bad_rate if start < m <= recovered else 0,
    )
    sim = Simulation(plan.slo, traffic)

    # Resets once every tier still active at recovery has emptied its
    # shortest window.
    active = [t for t in alert.tiers if _tier_active(sim, alert, t, recovered)]
    reset_within = max(_minutes(_shortest(t).total_seconds()) for t in active)
    resets_at = recovered + reset_within
    checks = [AlertCheck(fires_at, alert, True), AlertCheck(resets_at, alert, False)]
    if not sim.firing(alert, fires_at - plan.step):
        checks.insert(0, AlertCheck(fires_at - plan.step, alert, False))
    _agree(sim, checks)

    expected = _text(detection + plan.hold(alert))
    name = (
        f"{alert.name} {_tier_name(alert, index, tier)}: error ratio "
        f"{_number(ratio)} (1.1x the threshold) from {_text(start)} fires "
        f"within {expected} (long window x threshold / ratio + for) and resets "
        f"within {_text(reset_within)} of recovery"
    )
    return Scenario(name, _trimmed(traffic, resets_at), alerts=checks)


def _silent_below(plan: Plan, alert: Alert, index: int, tier: Tier) -> Scenario | None:
    threshold = Fraction(tier.threshold)
    bad_rate = math.floor(threshold * BELOW * plan.rate)
    long_window = _minutes(tier.long_window.total_seconds())
    # Below its threshold the tier cannot fire, full window or not.
    start = plan.history(alert, Fraction(bad_rate, plan.rate))
    end = start + plan.ceil(long_window) + plan.hold(alert) + plan.step
    traffic = plan.traffic(end, lambda m: bad_rate if m > start else 0)
    sim = Simulation(plan.slo, traffic)
    other = sim.first_firing(alert, start, end)
    check_at = end if other is None else other - plan.step
    if check_at <= start:  # another tier fires at once; nothing to show
        return None
    checks = [AlertCheck(check_at, alert, False)]
    _agree(sim, checks)
    name = (
        f"{alert.name} {_tier_name(alert, index, tier)}: error ratio "
        f"{_number(Fraction(bad_rate, plan.rate))} (0.9x the threshold) from "
        f"{_text(start)} stays silent through {_text(check_at)}"
    )
    return Scenario(name, _trimmed(traffic, check_at), alerts=checks)


def _no_traffic(plan: Plan) -> Scenario:
    # Long enough for every window to be full and every ``for`` to pass.
    end = plan.ceil(plan.longest) + max(plan.hold(a) for a in plan.slo.alerts)
    end += plan.step
    traffic = plan.traffic(end, lambda m: 0, total=0)
    checks = [AlertCheck(end, alert, False) for alert in plan.slo.alerts]
    counting = isinstance(plan.slo.sli, EventCountSLI)
    values = [
        ValueCheck(
            end,
            plan.record_names(_minutes(w.total_seconds())),
            Fraction(0) if counting else None,
        )
        for w in plan.slo.windows
    ]
    _agree(Simulation(plan.slo, traffic), checks)
    what = "a count of 0" if counting else "no error ratio (never NaN)"
    return Scenario(f"no traffic: no alert, {what} recorded", traffic, checks, values)


def _absent_bad(plan: Plan) -> Scenario:
    end = plan.base + plan.step
    traffic = plan.traffic(end, lambda m: 0)
    values = [
        ValueCheck(end, plan.record_names(_minutes(w.total_seconds())), Fraction(0))
        for w in plan.slo.windows
    ]
    checks = [AlertCheck(end, alert, False) for alert in plan.slo.alerts]
    name = "traffic without any bad-event series: every error ratio is 0, no alert"
    return Scenario(name, traffic, checks, values, without_bad_series=True)


def _bucket_spellings(plan: Plan) -> list[Scenario]:
    assert isinstance(plan.slo.sli, LatencySLI)
    end = plan.base + plan.step
    bad = plan.rate // 10
    traffic = plan.traffic(end, lambda m: bad)
    values = [
        ValueCheck(end, plan.record_names(_minutes(w.total_seconds())), Fraction(1, 10))
        for w in plan.slo.windows
    ]
    return [
        Scenario(
            f'buckets spelled le="{bound}": one in ten observations too slow reads '
            "as an error ratio of 0.1 in every window",
            traffic,
            values=values,
            bucket_bound=bound,
        )
        for bound in bucket_bounds(plan.slo.sli.threshold_seconds)
    ]


def count_scenarios(plan: Plan) -> list[Scenario]:
    found = []
    for alert in plan.slo.alerts:
        for index, tier in enumerate(alert.tiers):
            found.append(_count_boundary(plan, alert, index, tier))
            misaligned = _count_boundary_misaligned(plan, alert, index, tier)
            if misaligned is not None:
                found.append(misaligned)
    found.append(_no_traffic(plan))
    return found


@dataclass(frozen=True)
class _Events:
    minutes: list[int]  # when each of the allowed events happens
    extra: int  # when the one event too many happens
    allowed: int
    long_window: int


def _events(plan: Plan, alert: Alert, tier: Tier) -> _Events:
    """The allowed events spread over at most half the window, the extra one
    two evaluations after the last is counted in full; the spec loader made
    sure the window holds all that (rulegen.eventcount.shortest_window)."""
    allowed = eventcount.allowed_events(tier.threshold)
    long_window = _minutes(tier.long_window.total_seconds())
    room = long_window - 2 * plan.base - plan.hold(alert) - 4 * plan.step
    span = min(Fraction(long_window, 2), Fraction(room))
    # A counter that never moved reads 0 over any window, full or not: one
    # base window of flat history is enough.
    start = plan.base
    minutes = [start + plan.floor(j * span / allowed) for j in range(allowed)]
    last = minutes[-1] if minutes else start
    return _Events(minutes, last + plan.base + 2 * plan.step, allowed, long_window)


def _count_times(
    plan: Plan, alert: Alert, events: _Events, slack: int
) -> list[tuple[int, bool]]:
    """(minute, firing) for: the allowed events counted in full; the extra
    one counted in full (plus ``for``); the first event out of the window."""
    first = events.minutes[0] if events.minutes else events.extra
    last = events.minutes[-1] if events.minutes else plan.base
    return [
        (last + plan.base + slack, False),
        (events.extra + plan.base + plan.hold(alert) + slack, True),
        (first + events.long_window + plan.base + slack, False),
    ]


def _count_boundary(plan: Plan, alert: Alert, index: int, tier: Tier) -> Scenario:
    events = _events(plan, alert, tier)
    times = _count_times(plan, alert, events, 0)
    end = max(at for at, _ in times)
    increments = [0] * end
    for minute in [*events.minutes, events.extra]:
        increments[minute - 1] += 1
    traffic = Traffic(increments, [0] * end)
    sim = Simulation(plan.slo, traffic)
    checks = [AlertCheck(at, alert, firing) for at, firing in times]
    _agree(sim, checks)
    record = plan.record_names(events.long_window)
    values = [
        ValueCheck(at, record, sim.count(events.long_window, at))
        for at, _ in times
        if sim.count(events.long_window, at).denominator == 1
    ]
    name = (
        f"{alert.name} {_tier_name(alert, index, tier)}: {events.allowed} events in "
        f"{_text(events.long_window)} stay silent, one more fires, and it resets "
        "when the first leaves the window"
    )
    return Scenario(name, traffic, checks, values)


def _count_boundary_misaligned(
    plan: Plan, alert: Alert, index: int, tier: Tier
) -> Scenario | None:
    """The same with scrapes a second shorter than the spec's scrape
    interval, so that increase() extrapolates; expectations come from the
    read bounds (rulegen.eventcount), not the simulation."""
    scrape = plan.scrape_seconds - 1
    bounds = eventcount.read_bounds(
        plan.slo.base_window, plan.slo.interval, _seconds(scrape)
    )
    events = _events(plan, alert, tier)
    if scrape < 2 or not eventcount.separates(bounds, events.allowed):
        return None
    times = _count_times(plan, alert, events, plan.step)
    end_seconds = max(at for at, _ in times) * MINUTE
    happened = [m * MINUTE - MINUTE // 2 for m in [*events.minutes, events.extra]]
    samples = end_seconds // scrape + 1
    increments = [
        sum(1 for t in happened if (k - 1) * scrape < t <= k * scrape)
        for k in range(1, samples + 1)
    ]
    checks = [AlertCheck(at, alert, firing) for at, firing in times]
    name = (
        f"{alert.name} {_tier_name(alert, index, tier)}: the same with scrapes "
        f"every {scrape}s, where increase() extrapolates: one event counts as "
        f"{bounds.low:.2f} to {bounds.high:.2f}"
    )
    traffic = Traffic(increments, [0] * len(increments))
    return Scenario(name, traffic, checks, sample_seconds=scrape)


def _agree(sim: Simulation, checks: list[AlertCheck]) -> None:
    for check in checks:
        if sim.firing(check.alert, check.at) != check.firing:
            state = "firing" if check.firing else "silent"
            raise RuntimeError(
                f"rulegen's test formulas expect {check.alert.name} {state} at "
                f"minute {check.at}; its simulated rules disagree"
            )


def _tier_active(sim: Simulation, alert: Alert, tier: Tier, at: int) -> bool:
    return sim.active(replace(alert, tiers=(tier,)), at)


def _shortest(tier: Tier) -> timedelta:
    return tier.short_window or tier.long_window


def _trimmed(traffic: Traffic, end: int) -> Traffic:
    return Traffic(traffic.total[:end], traffic.bad[:end])


def _tier_name(alert: Alert, index: int, tier: Tier) -> str:
    windows = " and ".join(durations.render(w) for w in tier.windows)
    number = f"tier {index + 1} " if len(alert.tiers) > 1 else ""
    return f"{number}({render_decimal(tier.threshold)} over {windows})"


def _number(value: Fraction) -> str:
    return f"{float(value):.4g}"


def _text(minutes: int | Fraction) -> str:
    seconds = round(minutes * MINUTE)
    return durations.render(timedelta(seconds=seconds))


def _minutes(seconds: float) -> int:
    return int(seconds) // MINUTE


def _seconds(value: int) -> timedelta:
    return timedelta(seconds=value)
