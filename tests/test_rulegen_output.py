"""Properties every generated rule file holds, for the shipped spec and the
golden specs: PromQL that parses, only known metrics, recordings before the
rules that read them, valid label names, one document with its header."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
from ruamel.yaml import YAML

from exporter import contract
from rulegen import names
from rulegen.build import generate
from rulegen.spec.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "rulegen"
SPECS = {"slo.yaml": ROOT / "slo.yaml"} | {
    f"golden/{p.name}": p / "spec.yaml" for p in sorted(GOLDEN.iterdir())
}
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
CONTRACT_METRICS = {
    contract.EXECUTIONS_TOTAL,
    contract.STALLS_TOTAL,
    contract.AUTO_SKIPS_TOTAL,
    contract.EXECUTION_DURATION + "_bucket",
    contract.EXECUTION_DURATION + "_count",
    contract.CONFIG_VALID,  # read by the gauge alert RunnerConfigInvalid
}


def rule_groups(
    spec_path: Path, rule_format: str = "prometheus"
) -> list[dict[str, Any]]:
    spec, _ = load_spec(spec_path)
    yaml = YAML(typ="safe")
    groups = []
    for artifact in generate(spec, rule_format):
        if str(artifact.path).startswith(names.RULES_DIR):
            groups += yaml.load(artifact.text)["groups"]
    return groups


def metrics_read(expr: str) -> list[str]:
    found: list[str] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


@pytest.mark.parametrize("spec_path", SPECS.values(), ids=SPECS.keys())
def test_every_rule_reads_only_its_sources_and_earlier_recordings(spec_path):
    for group in rule_groups(spec_path):
        recorded: set[str] = set()
        for rule in group["rules"]:
            for metric in metrics_read(rule["expr"]):
                assert metric in recorded or not metric.startswith("slo:"), (
                    f"{rule.get('record') or rule['alert']} reads {metric} "
                    "before it is recorded"
                )
            if "record" in rule:
                recorded.add(rule["record"])


def test_the_shipped_rules_read_exactly_the_exporters_metrics():
    read = {
        metric
        for group in rule_groups(ROOT / "slo.yaml")
        for rule in group["rules"]
        for metric in metrics_read(rule["expr"])
        if not metric.startswith("slo:")
    }
    assert read == CONTRACT_METRICS


@pytest.mark.parametrize("spec_path", SPECS.values(), ids=SPECS.keys())
def test_groups_set_their_interval_and_every_label_name_is_valid(spec_path):
    for group in rule_groups(spec_path):
        assert re.fullmatch(r"[0-9]+[mh]", group["interval"])
        for rule in group["rules"]:
            assert all(LABEL_NAME.match(name) for name in rule["labels"])
            for clause in re.findall(r"(?:by|on) \(([^)]*)\)", rule["expr"]):
                assert all(LABEL_NAME.match(n) for n in clause.split(", ") if n)


@pytest.mark.parametrize("spec_path", SPECS.values(), ids=SPECS.keys())
def test_every_alert_carries_the_labels_routing_needs(spec_path):
    for group in rule_groups(spec_path):
        # Gauge alerts belong to no SLO and burn no budget.
        slo_labels = {names.BURN_TYPE, names.SLO_LABEL}
        if group["name"] == names.GAUGE_GROUP:
            slo_labels = set()
        for rule in group["rules"]:
            if "alert" in rule:
                assert set(rule["labels"]) >= {
                    names.SERVICE,
                    names.TEAM,
                    names.SEVERITY,
                    *slo_labels,
                }
                assert set(rule["annotations"]) == {
                    names.SUMMARY,
                    names.DESCRIPTION,
                    names.RUNBOOK_URL,
                }


def test_the_fast_stall_alert_is_labelled_for_routing_and_triage():
    text = (ROOT / names.TESTS_DIR / "stall-ratio.test.yml").read_text()
    tests = YAML(typ="safe").load(text)["tests"]
    fired = [
        alert["exp_labels"]
        for test in tests
        for check in test.get("alert_rule_test", [])
        if check["alertname"] == "RunnerStallFastBurn"
        for alert in check["exp_alerts"]
    ]
    assert fired
    assert set(fired[0]) >= {
        contract.SERVICE,
        contract.ENVIRONMENT,
        contract.HOST,
        contract.COMMAND_TYPE,
        names.BURN_TYPE,
        names.SEVERITY,
    }
    assert (fired[0]["service"], fired[0]["burn_type"]) == ("runner", "fast")


@pytest.mark.parametrize("spec_path", SPECS.values(), ids=SPECS.keys())
def test_each_file_is_one_document_under_its_header(spec_path):
    spec, _ = load_spec(spec_path)
    for rule_format in ("prometheus", "k8s"):
        for artifact in generate(spec, rule_format):
            if artifact.path.suffix != ".yml":
                continue  # dashboards, runbooks and templates have their tests
            header, _, body = artifact.text.partition("\n")
            assert (
                header == f"# generated by rulegen from {spec_path.name} - do not edit"
            )
            assert len(list(YAML(typ="safe").load_all(body))) == 1
            assert "\n---" not in body


def test_the_k8s_format_wraps_the_same_groups_in_a_prometheusrule():
    [resource_artifact] = [
        artifact
        for artifact in generate(load_spec(ROOT / "slo.yaml")[0], "k8s")
        if str(artifact.path).startswith(names.K8S_DIR)
    ]
    resource = YAML(typ="safe").load(resource_artifact.text)
    assert resource["apiVersion"] == "monitoring.coreos.com/v1"
    assert resource["kind"] == "PrometheusRule"
    assert resource["metadata"]["name"] == "runner-slos"
    assert resource["spec"]["groups"] == rule_groups(ROOT / "slo.yaml")
