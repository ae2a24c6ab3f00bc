"""Each SLO of the spec, met or missed on one day of evidence.

The SLIs are read from the spec, never restated here: its selectors are
applied to the day's samples (``exporter.report.samples``) and grouped by
the SLO's ``aggregate_by`` labels, as the generated rules group them.

- events ratio: bad / total in each group, met when at most the error
  budget (1 - objective);
- latency: observations above the threshold / all observations, met when
  at most the error budget;
- event count: the day's count in each group, met when at most
  ``max_events`` (the budget is per ``period``; the report reads one day).

A group with no events has no data. An SLO is missed when any group
misses; met when some group meets and none misses; otherwise it has no
data (an event-count SLO with no events is met: zero is within budget).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from exporter.report.samples import Sample, selects
from rulegen.spec.model import (
    SLO,
    EventCountSLI,
    EventsRatioSLI,
    LatencySLI,
    Selector,
    Spec,
)

Status = Literal["met", "missed", "no_data"]
SliKind = Literal["events_ratio", "latency", "event_count"]
GroupKey = tuple[str, ...]


@dataclass(frozen=True)
class GroupResult:
    labels: dict[str, str]  # the SLO's aggregate_by labels and their values
    bad: int
    total: int | None  # None for event counts
    ratio: float | None  # bad / total; None without a total
    status: Status


@dataclass(frozen=True)
class ObjectiveResult:
    name: str
    sli: SliKind
    objective: Decimal | None
    allowed: Decimal  # the largest bad ratio, or bad count, that still meets
    status: Status
    groups: tuple[GroupResult, ...]  # sorted by label values


def evaluate(spec: Spec, samples: list[Sample]) -> tuple[ObjectiveResult, ...]:
    return tuple(_evaluate(slo, samples) for slo in spec.slos)


def _evaluate(slo: SLO, samples: list[Sample]) -> ObjectiveResult:
    sli = slo.sli
    if isinstance(sli, EventCountSLI):
        counts = _count(slo, _selected(sli.events, samples))
        allowed = Decimal(sli.max_events)
        groups = [_count_result(slo, key, n, allowed) for key, n in counts.items()]
        return _result(slo, "event_count", allowed, groups, empty="met")
    assert slo.error_budget is not None  # ratio SLIs always have an objective
    if isinstance(sli, EventsRatioSLI):
        bad = _count(slo, _selected(sli.bad, samples))
        total = _count(slo, _selected(sli.total, samples))
        kind: SliKind = "events_ratio"
    else:
        assert isinstance(sli, LatencySLI)
        observed = _selected(sli.histogram, samples)
        slow = [s for s in observed if Decimal(str(s.value)) > sli.threshold_seconds]
        bad, total = _count(slo, slow), _count(slo, observed)
        kind = "latency"
    groups = [
        _ratio_result(slo, key, bad[key], total[key], slo.error_budget)
        for key in bad.keys() | total.keys()
    ]
    return _result(slo, kind, slo.error_budget, groups, empty="no_data")


def _selected(selector: Selector, samples: Iterable[Sample]) -> list[Sample]:
    return [sample for sample in samples if selects(selector, sample)]


def _count(slo: SLO, samples: Iterable[Sample]) -> Counter[GroupKey]:
    return Counter(
        tuple(sample.labels.get(name, "") for name in slo.aggregate_by)
        for sample in samples
    )


def _ratio_result(
    slo: SLO, key: GroupKey, bad: int, total: int, budget: Decimal
) -> GroupResult:
    if total == 0:
        status: Status = "missed" if bad else "no_data"
        ratio = None
    else:
        status = "met" if Decimal(bad) <= budget * total else "missed"
        ratio = bad / total
    return GroupResult(_labels(slo, key), bad, total, ratio, status)


def _count_result(slo: SLO, key: GroupKey, count: int, allowed: Decimal) -> GroupResult:
    status: Status = "met" if count <= allowed else "missed"
    return GroupResult(_labels(slo, key), count, None, None, status)


def _labels(slo: SLO, key: GroupKey) -> dict[str, str]:
    return dict(zip(slo.aggregate_by, key, strict=True))


def _result(
    slo: SLO,
    kind: SliKind,
    allowed: Decimal,
    groups: list[GroupResult],
    empty: Status,
) -> ObjectiveResult:
    statuses = {group.status for group in groups}
    if "missed" in statuses:
        status: Status = "missed"
    elif "met" in statuses:
        status = "met"
    else:
        status = empty
    ordered = sorted(groups, key=lambda group: tuple(group.labels.values()))
    return ObjectiveResult(
        slo.name, kind, slo.objective, allowed, status, tuple(ordered)
    )
