"""Prometheus rule files: one rule group per SLO, its recordings first and
then its alerts, in one file per SLO (or, for the Prometheus Operator, one
PrometheusRule resource holding every group, the gauge alerts' too)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from rulegen import durations, names, yamlout
from rulegen.alerting import alerting_rule
from rulegen.artifacts import Artifact
from rulegen.gaugealerts import gauge_group
from rulegen.recordings import recording_rules
from rulegen.spec.model import SLO, Spec

K8S_API_VERSION = "monitoring.coreos.com/v1"


def rule_group(spec: Spec, slo: SLO) -> dict[str, Any]:
    """The SLO's group; the interval is explicit because every recording
    counts per base window and sums whole evaluations."""
    rules = recording_rules(spec, slo)
    rules += [alerting_rule(spec, slo, alert) for alert in slo.alerts]
    return {
        "name": names.group(slo),
        "interval": durations.render(slo.interval),
        "rules": rules,
    }


def prometheus_files(spec: Spec) -> list[Artifact]:
    return [
        Artifact(
            PurePosixPath(names.rules_file(slo)),
            yamlout.document({"groups": [rule_group(spec, slo)]}, spec.file),
        )
        for slo in spec.slos
    ]


def k8s_files(spec: Spec) -> list[Artifact]:
    resource = {
        "apiVersion": K8S_API_VERSION,
        "kind": "PrometheusRule",
        "metadata": {
            "name": names.k8s_resource(spec),
            "labels": {
                "app.kubernetes.io/managed-by": "rulegen",
                names.SERVICE: spec.service,
                names.TEAM: spec.team,
            },
        },
        "spec": {"groups": _groups(spec)},
    }
    text = yamlout.document(resource, spec.file)
    return [Artifact(PurePosixPath(names.k8s_file(spec)), text)]


def _groups(spec: Spec) -> list[dict[str, Any]]:
    groups = [rule_group(spec, slo) for slo in spec.slos]
    if spec.gauge_alerts:
        groups.append(gauge_group(spec))
    return groups
