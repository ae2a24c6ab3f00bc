"""The daily report as JSON for tools and as text for people.

The JSON form is stable: keys sorted, indent 2, and these keys
(``schema_version`` changes when any of them does):

- ``schema_version`` (1), ``date`` (YYYY-MM-DD, a UTC day), ``window``
  (``start`` and ``end``, RFC 3339; the end excluded), ``spec`` (the SLO
  spec's file name), ``evidence`` (``files_read``, ``torn_lines``);
- ``totals``: counts for the whole day; ``groups``: the same counts per
  ``environment`` and ``command_type``, sorted by both. Counts are
  ``executions``, ``results`` (by result), ``failures``, ``auto_skips``,
  ``stalls``, ``stalls_by_cause`` (by cause) and ``p95_duration_seconds``
  (null without durations);
- ``slos``: one per SLO in spec order, with ``name``, ``sli``
  (``events_ratio``, ``latency`` or ``event_count``), ``objective`` (null
  for event counts), ``allowed`` (the largest bad ratio, or count, that
  still meets), ``status`` (``met``, ``missed`` or ``no_data``) and
  ``groups``: per value of the SLO's ``aggregate_by`` labels, ``labels``,
  ``bad``, ``total`` and ``ratio`` (null for event counts) and ``status``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Final

from exporter.evidence.events import format_timestamp
from exporter.report.daily import DailyReport
from exporter.report.day import day_bounds
from exporter.report.objectives import GroupResult, ObjectiveResult
from exporter.report.summary import Counts

REPORT_SCHEMA_VERSION: Final = 1
_SLI_NAMES: Final = {
    "events_ratio": "events ratio",
    "latency": "latency",
    "event_count": "event count",
}


def report_json(report: DailyReport) -> str:
    return json.dumps(report_document(report), sort_keys=True, indent=2) + "\n"


def report_document(report: DailyReport) -> dict[str, object]:
    start, end = day_bounds(report.day)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "date": report.day.isoformat(),
        "window": {"start": format_timestamp(start), "end": format_timestamp(end)},
        "spec": report.spec_file,
        "evidence": {
            "files_read": report.files_read,
            "torn_lines": report.torn_lines,
        },
        "totals": asdict(report.summary.total),
        "groups": [
            {
                "environment": group.environment,
                "command_type": group.command_type,
                **asdict(group.counts),
            }
            for group in report.summary.groups
        ],
        "slos": [_objective_document(result) for result in report.objectives],
    }


def report_text(report: DailyReport) -> str:
    total = report.summary.total
    lines = [
        f"daily report {report.day.isoformat()} (UTC): "
        f"{report.files_read} evidence file(s) read, {report.torn_lines} torn line(s)",
        _counts_line("all", total),
        f"  stalls by cause: {_listing(total.stalls_by_cause)}",
        f"  executions by result: {_listing(total.results)}",
    ]
    for group in report.summary.groups:
        name = f"{group.environment}/{group.command_type}"
        lines.append(_counts_line(name, group.counts))
    lines.append(f"SLOs of {report.spec_file}:")
    for result in report.objectives:
        lines.extend(_objective_lines(result))
    return "\n".join(lines) + "\n"


def _counts_line(name: str, counts: Counts) -> str:
    p95 = counts.p95_duration_seconds
    latency = "no durations" if p95 is None else f"p95 {p95:.3f} s"
    return (
        f"  {name}: {counts.executions} execution(s), {counts.failures} failure(s), "
        f"{counts.stalls} stall(s), {counts.auto_skips} auto-skip(s), {latency}"
    )


def _listing(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items()) or "none"


def _objective_lines(result: ObjectiveResult) -> list[str]:
    kind = _SLI_NAMES[result.sli]
    lines = [f"  {result.name}: {result.status} ({kind}, allowed {result.allowed})"]
    for group in result.groups:
        labels = " ".join(f"{k}={v}" for k, v in group.labels.items()) or "all"
        lines.append(f"    {labels}: {_measure(group)} {group.status}")
    return lines


def _measure(group: GroupResult) -> str:
    if group.total is None:
        return f"{group.bad} event(s)"
    ratio = "-" if group.ratio is None else f"{group.ratio:.4f}"
    return f"{group.bad}/{group.total} = {ratio}"


def _objective_document(result: ObjectiveResult) -> dict[str, object]:
    return {
        "name": result.name,
        "sli": result.sli,
        "objective": None if result.objective is None else float(result.objective),
        "allowed": float(result.allowed),
        "status": result.status,
        "groups": [
            {
                "labels": group.labels,
                "bad": group.bad,
                "total": group.total,
                "ratio": None if group.ratio is None else round(group.ratio, 6),
                "status": group.status,
            }
            for group in result.groups
        ],
    }
