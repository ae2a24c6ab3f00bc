"""Gauge alerts: their rule group, and promtool tests showing each fires
after its ``for`` once the gauge reaches the firing value, and resolves
when the gauge returns."""

from __future__ import annotations

import math
import posixpath
from datetime import timedelta
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

from rulegen import decimals, durations, expressions, names, yamlout
from rulegen.artifacts import Artifact
from rulegen.promtests.inputs import labels_selected_by
from rulegen.spec.model import GaugeAlert, Spec

# Gauges need no counting windows; the group is evaluated every minute.
INTERVAL = timedelta(minutes=1)
QUIET_MINUTES = 10  # of the quiet value before, and after, the firing one


def gauge_group(spec: Spec) -> dict[str, Any]:
    return {
        "name": names.GAUGE_GROUP,
        "interval": durations.render(INTERVAL),
        "rules": [gauge_rule(spec, alert) for alert in spec.gauge_alerts],
    }


def gauge_rule(spec: Spec, alert: GaugeAlert) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": alert.name, "expr": expression(alert)}
    if alert.for_:
        rule["for"] = durations.render(alert.for_)
    rule["labels"] = gauge_alert_labels(spec, alert)
    rule["annotations"] = gauge_alert_annotations(alert)
    return rule


def expression(alert: GaugeAlert) -> str:
    comparison = f"{expressions.selector(alert.gauge)} {alert.op} "
    return expressions.checked(comparison + decimals.render(alert.value))


def gauge_alert_labels(spec: Spec, alert: GaugeAlert) -> dict[str, str]:
    labels = {
        **spec.labels,
        names.SERVICE: spec.service,
        names.TEAM: spec.team,
        names.SEVERITY: alert.severity,
    }
    return dict(sorted(labels.items()))


def gauge_alert_annotations(alert: GaugeAlert) -> dict[str, str]:
    held = f" for {durations.render(alert.for_)}" if alert.for_ else ""
    return {
        names.DESCRIPTION: f"{expression(alert)}{held}.",
        names.RUNBOOK_URL: alert.runbook_url,
        names.SUMMARY: alert.summary,
    }


def gauge_alert_files(spec: Spec) -> list[Artifact]:
    """The rule file and its promtool tests; nothing without gauge alerts."""
    if not spec.gauge_alerts:
        return []
    rules = yamlout.document({"groups": [gauge_group(spec)]}, spec.file)
    rule_file = posixpath.relpath(
        names.GAUGE_RULES_FILE, posixpath.dirname(names.GAUGE_TESTS_FILE)
    )
    tests = {
        "rule_files": [rule_file],
        "evaluation_interval": durations.render(INTERVAL),
        "group_eval_order": [names.GAUGE_GROUP],
        "tests": [_test(spec, alert) for alert in spec.gauge_alerts],
    }
    return [
        Artifact(PurePosixPath(names.GAUGE_RULES_FILE), rules),
        Artifact(
            PurePosixPath(names.GAUGE_TESTS_FILE), yamlout.document(tests, spec.file)
        ),
    ]


def _test(spec: Spec, alert: GaugeAlert) -> dict[str, Any]:
    """Quiet, then firing for ``for`` plus QUIET_MINUTES, then quiet again."""
    hold = math.ceil(alert.for_ / INTERVAL)
    firing, quiet = _values(alert)
    labels = labels_selected_by(alert.gauge)
    values = (
        f"{quiet}x{QUIET_MINUTES - 1} {firing}x{hold + QUIET_MINUTES - 1} "
        f"{quiet}x{QUIET_MINUTES}"
    )
    fires_at = QUIET_MINUTES + hold
    expected = {
        "exp_labels": dict(
            sorted({**labels, **gauge_alert_labels(spec, alert)}.items())
        ),
        "exp_annotations": gauge_alert_annotations(alert),
    }
    checks = [
        (fires_at - 1, []),
        (fires_at, [expected]),
        (fires_at + QUIET_MINUTES - 1, [expected]),
        (fires_at + QUIET_MINUTES, []),
    ]
    return {
        "name": f"{alert.name} fires {hold}m after the gauge reads {firing}",
        "interval": durations.render(INTERVAL),
        "input_series": [
            {"series": _series(alert.gauge.metric, labels), "values": values}
        ],
        "alert_rule_test": [
            {
                "eval_time": durations.render(durations.minutes(minute)),
                "alertname": alert.name,
                "exp_alerts": alerts,
            }
            for minute, alerts in checks
        ],
    }


def _values(alert: GaugeAlert) -> tuple[str, str]:
    """(a value that fires, a value that does not)."""
    offset = {"==": Decimal(1), "<": Decimal(-1), ">": Decimal(1)}[alert.op]
    firing = alert.value if alert.op == "==" else alert.value + offset
    quiet = alert.value + offset if alert.op == "==" else alert.value
    return decimals.render(firing), decimals.render(quiet)


def _series(metric: str, labels: dict[str, str]) -> str:
    return expressions.series(metric, labels) if labels else metric
