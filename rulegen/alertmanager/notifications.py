"""The notification templates (Alertmanager's Go templating), and the
notification every generated alert makes, for rendering them in checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from rulegen import names, templating
from rulegen.spec.model import Spec

TEMPLATE = "notifications.tmpl.j2"
# Every template the file defines that a receiver calls.
CALLED = (names.TITLE_TEMPLATE, names.TEXT_TEMPLATE, names.HTML_TEMPLATE)
# A fixed instant, so that rendered checks are the same every run.
STARTS_AT = "2024-01-01T00:00:00Z"
NEVER = "0001-01-01T00:00:00Z"


def template_text(spec: Spec) -> str:
    return templating.render(
        TEMPLATE,
        header=names.GO_TEMPLATE_HEADER.format(spec=spec.file),
        labels=[(label, _heading(label)) for label in aggregation_labels(spec)],
        title=names.TITLE_TEMPLATE,
        text=names.TEXT_TEMPLATE,
        html=names.HTML_TEMPLATE,
        alertname=names.ALERTNAME,
        severity=names.SEVERITY,
        slo=names.SLO_LABEL,
        burn_type=names.BURN_TYPE,
        runbook_url=names.RUNBOOK_URL,
        summary=names.SUMMARY,
        description=names.DESCRIPTION,
    )


def aggregation_labels(spec: Spec) -> list[str]:
    """Every label some SLO aggregates by, in the order the spec first uses
    them (environment, host, command_type for slo.yaml)."""
    return list(dict.fromkeys(label for slo in spec.slos for label in slo.aggregate_by))


def firing_notification(rule_files: list[Path], receiver: str) -> dict[str, Any]:
    """The notification data Alertmanager would pass to the templates with
    every alert of ``rule_files`` firing (their labels and annotations);
    a file may be a PrometheusRule resource."""
    alerts = []
    yaml = YAML(typ="safe")
    for path in rule_files:
        document = yaml.load(path.read_text(encoding="utf-8"))
        for group in _groups(document):
            alerts += [_alert(rule) for rule in group["rules"] if "alert" in rule]
    return {
        "receiver": receiver,
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.invalid",
    }


def write_notification(data: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")


def _groups(document: dict[str, Any]) -> Any:
    """A rule file's groups, or a PrometheusRule resource's."""
    return document["groups"] if "groups" in document else document["spec"]["groups"]


def _alert(rule: dict[str, Any]) -> dict[str, Any]:
    labels = {names.ALERTNAME: rule["alert"], **rule["labels"]}
    return {
        "status": "firing",
        "labels": labels,
        "annotations": rule["annotations"],
        "startsAt": STARTS_AT,
        "endsAt": NEVER,
        "generatorURL": "",
        "fingerprint": rule["alert"],
    }


def _heading(label: str) -> str:
    """``command_type`` reads as "Command type"."""
    return label.replace("_", " ").capitalize()
