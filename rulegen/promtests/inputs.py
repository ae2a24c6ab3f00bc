"""Input series for generated tests: label values that the SLI's selectors
select (or, for the good events of a shared counter, do not), and the
counter values to go with them.

Values are tried from what the matchers themselves mention (the literal of
an ``=``, the alternatives of an ``=~``, the excluded values of ``!=`` and
``!~``), then ``test`` and the empty string (an absent label); regexes are
checked with Python's ``re``, which agrees with Prometheus's RE2 on the
literal alternations specs use.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rulegen import expressions, names
from rulegen.recordings import bucket_bounds
from rulegen.spec.model import (
    SLO,
    EventCountSLI,
    EventsRatioSLI,
    LatencySLI,
    Matcher,
    Selector,
)

DEFAULT_VALUE = "test"
Labels = dict[str, str]
Predicate = Callable[[Labels], bool]


class NoInputError(ValueError):
    """No label values satisfy the selectors the way a test needs."""


@dataclass(frozen=True)
class Traffic:
    """Increments per input interval: all events, and the bad among them."""

    total: Sequence[int]
    bad: Sequence[int]


@dataclass(frozen=True)
class InputSeries:
    role: str  # what the series stands for: total, bad, good, ...
    selector: str  # metric{labels}
    increments: Sequence[int]


@dataclass(frozen=True)
class Inputs:
    """How one SLO's traffic becomes input series."""

    slo: SLO
    aggregation: Labels
    roles: dict[str, Labels]  # role -> labels of that role's series

    def series(
        self, traffic: Traffic, bound: str | None = None, without_bad: bool = False
    ) -> list[InputSeries]:
        """The input series for ``traffic``; ``bound`` spells the latency
        bucket's ``le``; ``without_bad`` leaves out the bad-event series."""
        found = self._all(traffic, bound)
        return [s for s in found if not (without_bad and s.role == "bad")]

    def _all(self, traffic: Traffic, bound: str | None) -> list[InputSeries]:
        sli = self.slo.sli
        if isinstance(sli, EventCountSLI):
            return [self._one(sli.events, "events", traffic.total)]
        if isinstance(sli, LatencySLI):
            return self._latency(
                sli, traffic, bound or bucket_bounds(sli.threshold_seconds)[-1]
            )
        if sli.bad.metric != sli.total.metric:
            return [
                self._one(sli.total, "total", traffic.total),
                self._one(sli.bad, "bad", traffic.bad),
            ]
        good = [t - b for t, b in zip(traffic.total, traffic.bad, strict=True)]
        found = [
            self._one(sli.total, "good", good),
            self._one(sli.bad, "bad", traffic.bad),
        ]
        if "ignored" in self.roles:  # outcomes the SLI must not count
            found.append(
                self._one(sli.total, "ignored", [t // 10 for t in traffic.total])
            )
        return found

    def _one(
        self, source: Selector, role: str, increments: Sequence[int]
    ) -> InputSeries:
        labels = {**self.roles[role], **self.aggregation}
        return InputSeries(role, _render(source.metric, labels), increments)

    def _latency(
        self, sli: LatencySLI, traffic: Traffic, bound: str
    ) -> list[InputSeries]:
        labels = {**self.roles["observed"], **self.aggregation}
        base = sli.histogram.metric
        good = [t - b for t, b in zip(traffic.total, traffic.bad, strict=True)]
        # A bucket below the threshold and one above it: neither may be read
        # as the threshold's bucket.
        below, above = _neighbour_bounds(bound)
        buckets = [
            (below, [g // 2 for g in good]),
            (bound, good),
            (above, list(traffic.total)),
        ]
        found = [
            InputSeries(
                "observed",
                _render(base + names.BUCKET_SUFFIX, {**labels, names.BUCKET_BOUND: le}),
                increments,
            )
            for le, increments in buckets
        ]
        count = _render(base + names.COUNT_SUFFIX, labels)
        found.append(InputSeries("observed", count, traffic.total))
        return found


def inputs_for(slo: SLO) -> Inputs:
    """Label values for every role the SLO's tests need; NoInputError if the
    selectors leave none."""
    selectors = _selectors(slo)
    aggregation = _aggregation_values(slo, selectors)
    roles: dict[str, Labels] = {}
    sli = slo.sli
    if isinstance(sli, EventsRatioSLI) and sli.bad.metric == sli.total.metric:
        total, bad = _matches(sli.total), _matches(sli.bad)
        roles["good"] = _find(selectors, aggregation, lambda x: total(x) and not bad(x))
        roles["bad"] = _find(selectors, aggregation, lambda x: total(x) and bad(x))
        with contextlib.suppress(NoInputError):  # the SLI may count everything
            roles["ignored"] = _find(
                selectors, aggregation, lambda x: not total(x) and not bad(x)
            )
    elif isinstance(sli, EventsRatioSLI):
        roles["total"] = _find([sli.total], aggregation, _matches(sli.total))
        roles["bad"] = _find([sli.bad], aggregation, _matches(sli.bad))
    elif isinstance(sli, LatencySLI):
        roles["observed"] = _find(selectors, aggregation, _matches(sli.histogram))
    else:
        roles["events"] = _find(selectors, aggregation, _matches(sli.events))
    return Inputs(slo, aggregation, roles)


def labels_selected_by(source: Selector) -> Labels:
    """Label values of a series ``source`` selects; NoInputError if none."""
    return _find([source], {}, _matches(source))


def _selectors(slo: SLO) -> list[Selector]:
    sli = slo.sli
    if isinstance(sli, EventsRatioSLI):
        return [sli.total, sli.bad]
    if isinstance(sli, LatencySLI):
        return [sli.histogram]
    return [sli.events]


def _aggregation_values(slo: SLO, selectors: list[Selector]) -> Labels:
    """One value per aggregation label that every selector accepts."""
    values = {}
    for label in slo.aggregate_by:
        matchers = [m for s in selectors for m in s.matchers if m.name == label]
        options = [v for v in _candidates(matchers) if v]
        accepted = [v for v in options if all(_holds(m, v) for m in matchers)]
        if not accepted:
            raise NoInputError(
                f"no value of aggregation label {label!r} fits every selector"
            )
        values[label] = accepted[0]
    return values


def _find(selectors: list[Selector], fixed: Labels, wanted: Predicate) -> Labels:
    """The first label values (beyond ``fixed``) for which ``wanted`` holds."""
    free = sorted({m.name for s in selectors for m in s.matchers} - set(fixed))
    options = [
        _candidates([m for s in selectors for m in s.matchers if m.name == label])
        for label in free
    ]
    for values in itertools.product(*options):
        labels = {k: v for k, v in zip(free, values, strict=True) if v}
        if wanted({**labels, **fixed}):
            return labels
    raise NoInputError("no label values select the series this test needs")


def _candidates(matchers: Sequence[Matcher]) -> list[str]:
    found: list[str] = []
    for matcher in matchers:
        if matcher.op in ("=", "!="):
            found.append(matcher.value)
        else:
            found += [part.strip("()^$") for part in matcher.value.split("|")]
    found += [DEFAULT_VALUE, ""]
    return list(dict.fromkeys(found))


def _matches(source: Selector) -> Predicate:
    return lambda labels: all(
        _holds(m, labels.get(m.name, "")) for m in source.matchers
    )


def _holds(matcher: Matcher, value: str) -> bool:
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    try:
        found = re.fullmatch(matcher.value, value) is not None
    except re.error:
        return False
    return found if matcher.op == "=~" else not found


def _neighbour_bounds(bound: str) -> tuple[str, str]:
    """Bucket bounds a tenth and ten times ``bound``, spelled alike."""
    value = float(bound)

    def spell(number: float) -> str:
        text = repr(number)
        return text if "." in bound else text.removesuffix(".0")

    return spell(value / 10), spell(value * 10)


def _render(metric: str, labels: Labels) -> str:
    return expressions.series(metric, labels)
