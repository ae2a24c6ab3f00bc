"""One promtool test file per SLO, from its scenarios."""

from __future__ import annotations

import posixpath
from datetime import timedelta
from fractions import Fraction
from pathlib import PurePosixPath
from typing import Any

from rulegen import durations, expressions, names, yamlout
from rulegen.alerting import alert_annotations, alert_labels
from rulegen.artifacts import Artifact
from rulegen.promtests import scenarios, series
from rulegen.promtests.inputs import Inputs, inputs_for
from rulegen.promtests.scenarios import AlertCheck, Plan, Scenario, ValueCheck
from rulegen.spec.model import SLO, EventCountSLI, Spec


def promtool_test_files(spec: Spec) -> list[Artifact]:
    return [_test_file(spec, slo) for slo in spec.slos]


def _test_file(spec: Spec, slo: SLO) -> Artifact:
    inputs = inputs_for(slo)
    counting = isinstance(slo.sli, EventCountSLI)
    record_name = names.event_count if counting else names.error_ratio
    plan = Plan(slo, spec.scrape_interval, lambda m: record_name(durations.minutes(m)))
    found = (
        scenarios.count_scenarios(plan) if counting else scenarios.ratio_scenarios(plan)
    )
    tests_file = names.tests_file(slo)
    data = {
        "rule_files": [
            posixpath.relpath(names.rules_file(slo), posixpath.dirname(tests_file))
        ],
        "evaluation_interval": durations.render(slo.interval),
        # One group per SLO; fixed anyway, so recordings always run first.
        "group_eval_order": [names.group(slo)],
        "tests": [_test_group(spec, slo, inputs, s) for s in found],
    }
    return Artifact(PurePosixPath(tests_file), yamlout.document(data, spec.file))


def _test_group(
    spec: Spec, slo: SLO, inputs: Inputs, scenario: Scenario
) -> dict[str, Any]:
    given = inputs.series(
        scenario.traffic, scenario.bucket_bound, scenario.without_bad_series
    )
    group: dict[str, Any] = {
        "name": scenario.name,
        "interval": durations.render(timedelta(seconds=scenario.sample_seconds)),
        "input_series": [
            {
                "series": s.selector,
                "values": series.notation(series.cumulative(s.increments)),
            }
            for s in given
        ],
    }
    if scenario.alerts:
        group["alert_rule_test"] = [
            _alert_test(spec, slo, inputs, check) for check in scenario.alerts
        ]
    if scenario.values:
        group["promql_expr_test"] = [
            _value_test(spec, slo, inputs, check) for check in scenario.values
        ]
    return group


def _alert_test(
    spec: Spec, slo: SLO, inputs: Inputs, check: AlertCheck
) -> dict[str, Any]:
    expected = []
    if check.firing:
        labels = {**inputs.aggregation, **alert_labels(spec, slo, check.alert)}
        expected.append(
            {
                "exp_labels": dict(sorted(labels.items())),
                "exp_annotations": alert_annotations(slo, check.alert),
            }
        )
    return {
        "eval_time": _time(check.at),
        "alertname": check.alert.name,
        "exp_alerts": expected,
    }


def _value_test(
    spec: Spec, slo: SLO, inputs: Inputs, check: ValueCheck
) -> dict[str, Any]:
    rule_labels = names.rule_labels(spec, slo)
    samples = []
    if check.value is not None:
        labels = {**inputs.aggregation, **rule_labels}
        samples.append(
            {
                "labels": expressions.series(check.record, labels),
                "value": _number(check.value),
            }
        )
    return {
        "expr": expressions.series(check.record, rule_labels),
        "eval_time": _time(check.at),
        "exp_samples": samples,
    }


def _time(minutes: int) -> str:
    return durations.render(durations.minutes(minutes))


def _number(value: Fraction) -> int | float:
    if value.denominator == 1:
        return value.numerator
    return float(value)
