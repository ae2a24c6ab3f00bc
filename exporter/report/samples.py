"""Evidence events seen as the metric samples the exporter derives from
them, so each SLO's selectors from slo.yaml can be applied to a day of
evidence exactly as Prometheus applies them to the metrics.

- an execution event is one ``spark_runner_executions_total`` increment
  with its ``result``, one ``spark_runner_execution_duration_seconds``
  observation when it has a duration, and, when ``skipped``, one
  ``spark_runner_auto_skips_total`` increment (a skipped job is an
  auto-skip, as the exporter counts it);
- a stall event is one ``spark_runner_stalls_total`` increment with its
  ``cause``.

Every sample carries the job labels: ``service`` (the config's, as the
exporter sets it), and ``environment``, ``host``, ``command_type`` from the
event.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache

from exporter.contract import (
    AUTO_SKIPS_TOTAL,
    CAUSE,
    COMMAND_TYPE,
    DURATION_FIELD,
    ENVIRONMENT,
    EXECUTION_DURATION,
    EXECUTIONS_TOTAL,
    HOST,
    RESULT,
    SERVICE,
    STALLS_TOTAL,
)
from exporter.evidence import Record
from exporter.report.day import DayEvidence
from rulegen.spec.model import Matcher, Selector

SKIPPED = "skipped"


@dataclass(frozen=True)
class Sample:
    """One counter increment (value 1) or one histogram observation."""

    metric: str
    labels: dict[str, str] = field(hash=False)
    value: float = 1.0


def evidence_samples(evidence: DayEvidence, service: str) -> list[Sample]:
    samples: list[Sample] = []
    for record in evidence.executions:
        labels = job_labels(record, service)
        result = text(record.get(RESULT))
        samples.append(Sample(EXECUTIONS_TOTAL, {**labels, RESULT: result}))
        duration = duration_seconds(record)
        if duration is not None:
            samples.append(Sample(EXECUTION_DURATION, labels, duration))
        if result == SKIPPED:
            samples.append(Sample(AUTO_SKIPS_TOTAL, labels))
    for record in evidence.stalls:
        labels = job_labels(record, service)
        samples.append(Sample(STALLS_TOTAL, {**labels, CAUSE: text(record.get(CAUSE))}))
    return samples


def job_labels(record: Record, service: str) -> dict[str, str]:
    return {
        SERVICE: service,
        ENVIRONMENT: text(record.get(ENVIRONMENT)),
        HOST: text(record.get(HOST)),
        COMMAND_TYPE: text(record.get(COMMAND_TYPE)),
    }


def duration_seconds(record: Record) -> float | None:
    value = record.get(DURATION_FIELD)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)


def text(value: object) -> str:
    """A label value: strings as they are, anything missing as empty."""
    return value if isinstance(value, str) else ""


def selects(selector: Selector, sample: Sample) -> bool:
    """Whether a PromQL selector selects the sample's series. As in
    Prometheus, a missing label has the empty value and regexes are
    anchored at both ends."""
    if selector.metric != sample.metric:
        return False
    return all(_matches(m, sample.labels.get(m.name, "")) for m in selector.matchers)


def _matches(matcher: Matcher, value: str) -> bool:
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    found = _anchored(matcher.value).fullmatch(value) is not None
    return found if matcher.op == "=~" else not found


# Python's re stands in for Prometheus's RE2: the same for the alternations
# and classes a spec uses; RE2-only syntax fails to compile here.
@cache
def _anchored(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
