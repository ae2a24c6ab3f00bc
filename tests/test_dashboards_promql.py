"""Every query of every committed dashboard parses with promql-parser once
Grafana's variables are filled in, selects this service only, and reads
only the exporter's contract metrics or the recordings rulegen writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
from ruamel.yaml import YAML

from exporter import contract
from rulegen import names
from rulegen.dashboards import promql

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = sorted((ROOT / names.DASHBOARDS_DIR).glob("*.json"))
GOLDEN = sorted((ROOT / "tests" / "golden").rglob("dashboards/*.json"))
HISTOGRAMS = (
    contract.EXECUTION_DURATION,
    contract.SAMPLE_DURATION,
    contract.SCRAPE_DURATION,
)
CONTRACT_METRICS = {
    contract.EXECUTIONS_TOTAL,
    contract.STALLS_TOTAL,
    contract.AUTO_SKIPS_TOTAL,
    contract.WATCHED_JOBS,
    contract.WATCHED_PROCESSES,
    contract.SAMPLE_ERRORS_TOTAL,
    contract.DEGRADED_CAPABILITY,
    contract.CONFIG_VALID,
    contract.BUILD_INFO,
    contract.EVIDENCE_WRITE_ERRORS_TOTAL,
    contract.SELF_RESIDENT_MEMORY,
    contract.SELF_CPU_SECONDS,
    *(h + suffix for h in HISTOGRAMS for suffix in ("_bucket", "_count", "_sum")),
}
# Values Grafana could put in place of each variable when a panel runs.
SAMPLES = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "7d",
    "environment": "(ci|prod)",
    "host": "runner-1",
    "command_type": ".*",
}


def recordings(rules_dir: Path) -> set[str]:
    return {
        rule["record"]
        for path in sorted(rules_dir.glob("*.yml"))
        for group in YAML(typ="safe").load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def queries(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every panel target, variables included."""
    found = []
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["query"])
            assert inner, variable["query"]
            found.append((f"variable {variable['name']}", inner.group(1)))
    return found


def filled(expr: str) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: SAMPLES.get(m.group(1), ".*"), expr)


def selectors(expr: str) -> list[Any]:
    found: list[Any] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(filled(expr)), visit)
    return found


def service_of(selector: Any) -> list[str]:
    return [
        m.value
        for m in selector.matchers.matchers
        if m.name == "service" and m.op == promql_parser.MatchOp.Equal
    ]


def test_the_committed_dashboards_are_the_three_expected():
    assert [p.name for p in DASHBOARDS] == [
        "runner-exporter.json",
        "runner-fleet.json",
        "runner-slos.json",
    ]


@pytest.mark.parametrize(
    "path",
    DASHBOARDS + GOLDEN,
    ids=[str(p.relative_to(ROOT)) for p in DASHBOARDS + GOLDEN],
)
def test_every_query_reads_contract_metrics_or_recordings_of_this_service(path):
    rules_dir = path.parent.parent / names.RULES_DIR
    allowed = CONTRACT_METRICS | recordings(rules_dir)
    board = json.loads(path.read_text(encoding="utf-8"))
    service = spec_service(path)
    checked = 0
    for title, expr in queries(board):
        for selector in selectors(expr):
            assert selector.name in allowed, f"{title}: {selector.name} is not exported"
            [value] = service_of(selector)
            assert value == service, f"{title}: service={value!r}"
            checked += 1
    assert checked >= 5


def spec_service(dashboard: Path) -> str:
    """The ``service`` of the spec a dashboard was generated from: slo.yaml
    for the shipped ones, the golden case's spec.yaml for the others."""
    out = dashboard.parent.parent
    spec = ROOT / "slo.yaml" if out == ROOT else out.parent / "spec.yaml"
    return str(YAML(typ="safe").load(spec.read_text(encoding="utf-8"))["service"])


def test_the_shipped_dashboards_read_every_recorded_window_an_alert_reads():
    read = {
        selector.name
        for path in DASHBOARDS
        for _, expr in queries(json.loads(path.read_text(encoding="utf-8")))
        for selector in selectors(expr)
    }
    assert {"slo:error_ratio:5m", "slo:error_ratio:3d", "slo:events:1d"} <= read
    assert {contract.STALLS_TOTAL, contract.EVIDENCE_WRITE_ERRORS_TOTAL} <= read


def test_alerts_appear_only_as_annotations_of_this_service():
    board = json.loads((ROOT / names.DASHBOARDS_DIR / "runner-slos.json").read_text())
    [annotation] = board["annotations"]["list"]
    [selector] = selectors(annotation["expr"])
    # ALERTS is Prometheus's own series of pending and firing alerts: the one
    # way to mark on a dashboard when the generated alerts fired.
    assert selector.name == names.ALERTS_METRIC
    assert service_of(selector) == ["runner"]
    for path in DASHBOARDS:
        for title, expr in queries(json.loads(path.read_text(encoding="utf-8"))):
            assert names.ALERTS_METRIC not in {s.name for s in selectors(expr)}, title


def test_a_query_that_does_not_parse_is_refused_at_build_time():
    assert promql.checked('sum(rate(x{a=~"$environment"}[$__rate_interval]))')
    with pytest.raises(RuntimeError, match="does not parse"):
        promql.checked("sum(rate(x[$__rate_interval])")
