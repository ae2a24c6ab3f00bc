"""Routing test cases: label sets and the receivers they must reach, written
beside the config and run with ``amtool config routes test``.

Each alert rulegen generates gets a case (its severity's receiver), as does
each routed severity no alert uses yet, a team alert without a severity
route (the team's receiver) and another team's alert (the root's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from rulegen import amtool, names
from rulegen.alerting import alert_labels
from rulegen.alertmanager.config import team_matchers
from rulegen.errors import CheckFailedError
from rulegen.gaugealerts import gauge_alert_labels
from rulegen.spec.model import Routing, Spec

# A team and service no spec would route to this config.
OTHER_TEAM = {names.TEAM: "another-team", names.SERVICE: "another-service"}
UNROUTED_ALERT = "UnroutedSeverity"


@dataclass(frozen=True)
class RoutingCase:
    name: str
    labels: dict[str, str]
    receivers: list[str]


def cases(spec: Spec, routing: Routing) -> list[RoutingCase]:
    found = []
    for slo in spec.slos:
        for alert in slo.alerts:
            labels = {names.ALERTNAME: alert.name, **alert_labels(spec, slo, alert)}
            found.append(_case(alert.name, labels, routing))
    for gauge in spec.gauge_alerts:
        labels = {names.ALERTNAME: gauge.name, **gauge_alert_labels(spec, gauge)}
        found.append(_case(gauge.name, labels, routing))
    used = {case.labels[names.SEVERITY] for case in found}
    for severity in routing.routes:
        if severity not in used:
            labels = {**team_matchers(spec), names.SEVERITY: severity}
            found.append(_case(f"any {severity} alert", labels, routing))
    team_only = {names.ALERTNAME: UNROUTED_ALERT, **team_matchers(spec)}
    found.append(RoutingCase("no severity route", team_only, [routing.receiver]))
    other = {names.ALERTNAME: UNROUTED_ALERT, **OTHER_TEAM}
    found.append(RoutingCase("another team", other, [routing.receiver]))
    return found


def document(found: list[RoutingCase]) -> dict[str, Any]:
    return {
        "tests": [
            {
                "name": case.name,
                "labels": dict(sorted(case.labels.items())),
                "receivers": case.receivers,
            }
            for case in found
        ]
    }


def load(path: Path) -> list[RoutingCase]:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    try:
        return [
            RoutingCase(str(t["name"]), dict(t["labels"]), list(t["receivers"]))
            for t in data["tests"]
        ]
    except (KeyError, TypeError) as exc:
        raise CheckFailedError(f"{path}: not a routing test file ({exc})") from None


def run(config: Path, found: list[RoutingCase]) -> None:
    """Each case through amtool; the first that misroutes fails the check."""
    for case in found:
        try:
            amtool.route(config, case.labels, case.receivers)
        except CheckFailedError as exc:
            raise CheckFailedError(f"routing test {case.name!r}: {exc}") from None


def _case(name: str, labels: dict[str, str], routing: Routing) -> RoutingCase:
    severity = labels[names.SEVERITY]
    return RoutingCase(f"{name} ({severity})", labels, [routing.receiver_for(severity)])
