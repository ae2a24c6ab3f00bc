"""Counting a day's executions and stalls, per environment and command type.

P95 is the nearest-rank percentile: the smallest duration that at least 95%
of the day's durations do not exceed.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from exporter.contract import CAUSE, COMMAND_TYPE, ENVIRONMENT, RESULT
from exporter.evidence import Record
from exporter.report.day import DayEvidence
from exporter.report.samples import SKIPPED, duration_seconds, text

FAILURE = "failure"
P95 = 0.95


@dataclass(frozen=True)
class Counts:
    """What happened in one group (or the whole day)."""

    executions: int
    results: dict[str, int]  # by result, only those that occurred
    failures: int  # result "failure"
    auto_skips: int  # result "skipped": jobs the watchdog killed as stalled
    stalls: int
    stalls_by_cause: dict[str, int]
    p95_duration_seconds: float | None  # None when no execution had a duration


@dataclass(frozen=True)
class GroupSummary:
    environment: str
    command_type: str
    counts: Counts


@dataclass(frozen=True)
class DaySummary:
    total: Counts
    groups: tuple[GroupSummary, ...]  # sorted by environment, command type


def summarise(evidence: DayEvidence) -> DaySummary:
    executions: dict[tuple[str, str], list[Record]] = defaultdict(list)
    stalls: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for record in evidence.executions:
        executions[_group(record)].append(record)
    for record in evidence.stalls:
        stalls[_group(record)].append(record)
    keys = sorted(executions.keys() | stalls.keys())
    groups = tuple(
        GroupSummary(key[0], key[1], _counts(executions[key], stalls[key]))
        for key in keys
    )
    total = _counts(list(evidence.executions), list(evidence.stalls))
    return DaySummary(total, groups)


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _group(record: Record) -> tuple[str, str]:
    return text(record.get(ENVIRONMENT)), text(record.get(COMMAND_TYPE))


def _counts(executions: list[Record], stalls: list[Record]) -> Counts:
    results = Counter(text(record.get(RESULT)) for record in executions)
    causes = Counter(text(record.get(CAUSE)) for record in stalls)
    durations = [
        duration
        for record in executions
        if (duration := duration_seconds(record)) is not None
    ]
    return Counts(
        executions=len(executions),
        results=dict(sorted(results.items())),
        failures=results[FAILURE],
        auto_skips=results[SKIPPED],
        stalls=len(stalls),
        stalls_by_cause=dict(sorted(causes.items())),
        p95_duration_seconds=percentile(durations, P95),
    )
