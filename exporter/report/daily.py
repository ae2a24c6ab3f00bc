"""The daily report: one UTC day of evidence, summarised and held against
the SLOs of the spec."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from exporter.report.day import load_day
from exporter.report.objectives import ObjectiveResult, evaluate
from exporter.report.samples import evidence_samples
from exporter.report.summary import DaySummary, summarise
from rulegen.spec.model import Spec


@dataclass(frozen=True)
class DailyReport:
    day: date
    spec_file: str
    summary: DaySummary
    objectives: tuple[ObjectiveResult, ...]
    files_read: int
    torn_lines: int


def daily_report(directory: Path, day: date, spec: Spec, service: str) -> DailyReport:
    """Report on ``day``; ``service`` is the exporter's service label."""
    evidence = load_day(directory, day)
    return DailyReport(
        day=day,
        spec_file=spec.file,
        summary=summarise(evidence),
        objectives=evaluate(spec, evidence_samples(evidence, service)),
        files_read=evidence.files_read,
        torn_lines=evidence.torn_lines,
    )
