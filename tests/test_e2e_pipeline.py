"""The whole pipeline, for real and on loopback: a stalling job under a fake
runner root -> ``runner-watchdog serve`` -> Prometheus (scraping every
second, rules built by ``rulegen build`` from tests/e2e/slo.yaml) ->
Alertmanager (the generated routes) -> a webhook receiver; then recovery,
and every dashboard query against that Prometheus.

Two more pipelines run beside it on the same exporter, each built from the
spec with one deliberate breakage (a typo in a rule's selector, a route to
the wrong receiver): the same checks must find that the alert does not
arrive where the routes say. The timeline runs once, in the module's
fixture; each test reads what it recorded or asks the live servers.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e.dashboards import dashboard_queries
from e2e.pipeline import (
    ALERT,
    BROKEN_ROUTE,
    BROKEN_RULE,
    GOOD,
    ROOT,
    Pipeline,
    expected_receiver,
)
from e2e.traffic import Traffic
from e2e.webhook import Notification, WebhookReceiver
from serve_support import COMMAND, Exporter, config_text, new_marker

from exporter.chaos.fakerunner import FakeRunner
from exporter.contract import STALLS_TOTAL

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

UP_TIMEOUT_SECONDS = 60.0
RISE_TIMEOUT_SECONDS = 60.0
# The rules evaluate once a minute (the spec's interval): a burn is seen
# within two or three evaluations (measured: 167 s on an idle machine; the
# first increase of a new series is not counted), its end within two more.
FIRE_TIMEOUT_SECONDS = 300.0
RESOLVE_TIMEOUT_SECONDS = 240.0
DELIVER_TIMEOUT_SECONDS = 90.0
LABELS = {
    "service": "runner",
    "environment": "ci",
    "host": "testhost",
    "command_type": "hanger",
    "burn_type": "fast",
    "severity": "critical",
}
STALLS = f'sum({STALLS_TOTAL}{{command_type="hanger"}})'


@dataclass
class Run:
    webhook: WebhookReceiver
    pipelines: dict[str, Pipeline]
    traffic: Traffic
    stalls: list[float | None] = field(default_factory=list)
    fired: list[dict[str, str]] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    took: dict[str, float] = field(default_factory=dict)

    @property
    def good(self) -> Pipeline:
        return self.pipelines[GOOD.name]

    def notifications(self, pipeline: Pipeline, status: str) -> list[Notification]:
        return [
            n
            for n in self.webhook.received(pipeline.path)
            if any(a["status"] == status for a in n.alerts(ALERT))
        ]

    def wait(self, what: str, holds: Callable[[], bool], timeout: float) -> bool:
        """Poll; on a timeout record it (the tests name it) and go on."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if holds():
                self.took[what] = time.monotonic() - started
                return True
            time.sleep(0.5)
        self.gave_up.append(f"no {what} within {timeout:g} s")
        return False

    def drive(self) -> None:
        good = self.good
        for pipeline in self.pipelines.values():
            self.wait(
                f"scrape of the exporter by {pipeline.variant.name}",
                _scraped(pipeline),
                UP_TIMEOUT_SECONDS,
            )
        self.stalls.append(good.value(STALLS))
        self.traffic.stall()
        self.wait(
            "stall counted", lambda: (good.value(STALLS) or 0) > 0, RISE_TIMEOUT_SECONDS
        )
        self.stalls.append(good.value(STALLS))
        if not self.wait(
            "firing alert", lambda: bool(good.firing()), FIRE_TIMEOUT_SECONDS
        ):
            return
        self.fired = good.firing()
        self.stalls.append(good.value(STALLS))

        self.traffic.succeed()
        self.wait(
            "firing notification",
            lambda: bool(self.notifications(good, "firing")),
            DELIVER_TIMEOUT_SECONDS,
        )
        if not self.wait(
            "resolved alert", lambda: not good.firing(), RESOLVE_TIMEOUT_SECONDS
        ):
            return
        self.wait(
            "resolved notification",
            lambda: bool(self.notifications(good, "resolved")),
            DELIVER_TIMEOUT_SECONDS,
        )


def _scraped(pipeline: Pipeline) -> Callable[[], bool]:
    return lambda: pipeline.value('up{job="runner-watchdog"}') == 1


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    base = tmp_path_factory.mktemp("e2e")
    marker = new_marker()
    config = base / "runner.yaml"
    config.write_text(config_text(base / "evidence", marker, hanger_action="kill"))
    with ExitStack() as stack:
        webhook = WebhookReceiver()
        stack.callback(webhook.close)
        runner = FakeRunner(marker, base / "jobs.log")  # before the exporter's scan
        stack.callback(runner.close)
        exporter = Exporter(config, "--listen", "127.0.0.1:0")
        stack.callback(exporter.stop)
        target = urllib.parse.urlsplit(exporter.url).netloc
        pipelines = {}
        for variant in (GOOD, BROKEN_RULE, BROKEN_ROUTE):
            pipeline = Pipeline(variant, base / variant.name, target, webhook.url)
            stack.callback(pipeline.stop)
            pipelines[variant.name] = pipeline
        traffic = Traffic(runner, COMMAND, config)
        stack.callback(traffic.close)
        timeline = Run(webhook, pipelines, traffic)
        timeline.drive()
        yield timeline


def delivered_where_routed(run: Run, pipeline: Pipeline) -> bool:
    """The check a pipeline must pass: a firing notification of the alert
    reached the receiver that the (correct) routes name for its labels."""
    labels = run.fired[0] if run.fired else {**LABELS, "alertname": ALERT}
    receiver = expected_receiver(run.good.alertmanager_config, labels)
    return any(
        n.path == f"{pipeline.path}{receiver}" and n.body.get("receiver") == receiver
        for n in run.notifications(pipeline, "firing")
    )


def test_the_stall_counter_rises_in_prometheus(run: Run) -> None:
    assert run.stalls, run.gave_up
    before, *after = run.stalls

    assert before == 0
    assert after and all(value is not None and value > 0 for value in after)
    assert after == sorted(after)


def test_the_fast_burn_alert_fires_with_its_labels(run: Run) -> None:
    assert run.fired, run.gave_up
    [labels] = run.fired

    assert {name: labels.get(name) for name in LABELS} == LABELS
    assert (labels["slo"], labels["team"]) == ("stall-ratio", "e2e")


def test_alertmanager_delivers_it_to_the_receiver_the_routes_name(run: Run) -> None:
    assert run.fired, run.gave_up
    receiver = expected_receiver(run.good.alertmanager_config, run.fired[0])
    firing = run.notifications(run.good, "firing")

    assert receiver == "e2e-pager"
    assert delivered_where_routed(run, run.good), (run.gave_up, firing)
    assert {n.path for n in firing} == {f"/good/{receiver}"}
    [alert] = firing[0].alerts(ALERT)
    assert {name: alert["labels"].get(name) for name in LABELS} == LABELS


def test_the_alert_resolves_after_recovery(run: Run) -> None:
    resolved = run.notifications(run.good, "resolved")

    assert not run.gave_up, run.gave_up
    assert run.traffic.started["succeed"] > 0
    assert run.good.firing() == []
    assert {n.path for n in resolved} == {"/good/e2e-pager"}


def _dashboards() -> list[Path]:
    return sorted((ROOT / "dashboards").glob("*.json"))


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(
            {"environment": ".*", "host": ".*", "command_type": ".*"}, id="all"
        ),
        pytest.param(
            {"environment": "ci", "host": "testhost", "command_type": "hanger"},
            id="real-values",
        ),
    ],
)
def test_every_dashboard_query_runs(run: Run, values: dict[str, str]) -> None:
    boards = [*_dashboards(), *sorted((run.good.out / "dashboards").glob("*.json"))]
    queries = [q for board in boards for q in dashboard_queries(board)]
    failed: list[str] = []
    answered: dict[str, int] = {}
    for query in queries:
        expr = query.substituted(values)
        try:
            result = run.good.query(expr)
        except AssertionError as error:
            failed.append(f"{query.dashboard} {query.where}: {error}")
            continue
        answered[query.dashboard] = answered.get(query.dashboard, 0) + bool(result)

    assert len(_dashboards()) == 3 and len(queries) > 60
    assert failed == []
    # the exporter's series reach the fleet and exporter-health panels
    assert answered["runner-fleet.json"] > 0
    assert answered["runner-exporter.json"] > 0


def test_a_broken_rule_makes_the_alert_not_arrive(run: Run) -> None:
    broken = run.pipelines[BROKEN_RULE.name]
    ever = broken.query(f'count_over_time(ALERTS{{alertname="{ALERT}"}}[1h])')
    rules = broken.prometheus.get_json("/api/v1/rules")["data"]["groups"]

    assert delivered_where_routed(run, run.good), run.gave_up  # the same traffic
    assert not delivered_where_routed(run, broken)
    assert run.webhook.received(broken.path) == []
    assert ever == []  # never pending, never firing
    # and nothing looked wrong: every rule evaluated without error
    assert {rule["health"] for group in rules for rule in group["rules"]} == {"ok"}


def test_a_broken_route_makes_the_alert_not_arrive(run: Run) -> None:
    broken = run.pipelines[BROKEN_ROUTE.name]

    assert delivered_where_routed(run, run.good), run.gave_up
    assert not delivered_where_routed(run, broken)
    # it fired and was delivered, to the receiver the broken route names
    assert {n.path for n in run.notifications(broken, "firing")} == {
        "/broken-route/e2e-board"
    }
