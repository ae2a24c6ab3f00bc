"""The generated Alertmanager config, checked by the real amtool and a real
Alertmanager: it loads, routes every test case to its receivers, renders
its notification templates, inhibits slow burns under fast ones, and holds
no secret."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from rulegen import amtool, names
from rulegen.alertmanager import notifications, routingtests
from rulegen.check import CHECKS, alertmanager_config
from rulegen.errors import CheckFailedError

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / names.ALERTMANAGER_CONFIG
TEMPLATES = CONFIG.parent / names.TEMPLATES_GLOB
CASES = routingtests.load(ROOT / names.ROUTING_TESTS)
ALERTMANAGER_PROGRAMS = ("prometheus-alertmanager", "alertmanager")  # Debian's name


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_amtool_and_alertmanager_are_installed():
    assert shutil.which("amtool"), "install the Debian package prometheus-alertmanager"
    assert any(shutil.which(p) for p in ALERTMANAGER_PROGRAMS)


def test_the_committed_config_passes_amtool_check_config():
    output = amtool.check_config(CONFIG)
    assert "SUCCESS" in output
    assert " - 2 inhibit rules" in output
    assert " - 4 receivers" in output


def test_rulegen_check_runs_amtool_on_the_committed_config():
    assert alertmanager_config in CHECKS
    assert alertmanager_config(ROOT) == (
        "amtool: alertmanager/alertmanager.yml valid, 10 routing tests pass, "
        "3 notification templates render 7 alerts"
    )


def test_the_root_route_groups_by_team_and_service_with_the_products_timings():
    route = load(CONFIG)["route"]
    assert (route["group_by"], route["group_wait"]) == (["team", "service"], "10s")
    assert (route["group_interval"], route["repeat_interval"]) == ("10s", "1h")
    [team] = route["routes"]
    assert team["receiver"] == "platform-team"
    assert team["matchers"] == ['team="platform"', 'service="runner"']
    assert [(r["matchers"], r["receiver"]) for r in team["routes"]] == [
        (['severity="critical"'], "platform-team-critical"),
        (['severity="warning"'], "platform-team-warning"),
        (['severity="info"'], "platform-team-dashboard"),
    ]


def test_critical_goes_to_slack_discord_and_email_warning_to_slack_info_to_a_webhook():
    receivers = {r["name"]: r for r in load(CONFIG)["receivers"]}
    critical = receivers["platform-team-critical"]
    assert [c["api_url_file"] for c in critical["slack_configs"]] == [
        "/etc/alertmanager/secrets/slack-api-url",
        "/etc/alertmanager/secrets/discord-webhook-url",  # Slack-compatible URL
    ]
    assert critical["email_configs"][0]["auth_password_file"] == (
        "/etc/alertmanager/secrets/smtp-password"
    )
    assert set(receivers["platform-team-warning"]) == {"name", "slack_configs"}
    [hook] = receivers["platform-team-dashboard"]["webhook_configs"]
    assert hook["http_config"]["authorization"]["credentials_file"] == (
        "/etc/alertmanager/secrets/dashboard-webhook-token"
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_amtool_routes_each_case_to_its_receivers(case):
    routingtests.run(CONFIG, [case])


def test_every_generated_alert_has_a_routing_case():
    alerts = {
        rule["alert"]
        for path in sorted((ROOT / names.RULES_DIR).glob("*.yml"))
        for group in load(path)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    routed = {c.labels.get(names.ALERTNAME) for c in CASES}
    assert alerts <= routed
    assert len(alerts) == 7


def test_a_misrouted_case_fails_naming_the_case_and_amtools_verdict(tmp_path):
    config = tmp_path / "alertmanager.yml"
    text = CONFIG.read_text(encoding="utf-8")
    config.write_text(
        text.replace("- receiver: platform-team-critical", "- receiver: platform-team"),
        encoding="utf-8",
    )
    [fast] = [c for c in CASES if c.name == "RunnerStallFastBurn (critical)"]
    with pytest.raises(CheckFailedError) as raised:
        routingtests.run(config, [fast])
    message = str(raised.value)
    assert message.startswith("routing test 'RunnerStallFastBurn (critical)': amtool")
    assert "Expected receivers did not match resolved receivers" in message


def test_the_check_fails_when_the_templates_are_missing(tmp_path):
    shutil.copytree(ROOT / "alertmanager", tmp_path / "alertmanager")
    shutil.rmtree(tmp_path / "alertmanager" / "templates")
    with pytest.raises(CheckFailedError) as raised:
        alertmanager_config(tmp_path)
    assert "no notification templates at" in str(raised.value)


@pytest.fixture(scope="module")
def notification(tmp_path_factory) -> Path:
    """Every shipped alert firing, one of them for a known label set."""
    rules = sorted((ROOT / names.RULES_DIR).glob("*.yml"))
    data = notifications.firing_notification(rules, "platform-team-critical")
    [stall] = [
        a for a in data["alerts"] if a["labels"]["alertname"] == "RunnerStallFastBurn"
    ]
    stall["labels"] |= {"environment": "ci", "host": "runner-7", "command_type": "test"}
    data["commonLabels"] = {"alertname": "RunnerStallFastBurn", "severity": "critical"}
    path = tmp_path_factory.mktemp("notification") / "data.json"
    notifications.write_notification(data, path)
    return path


def render(template: str, data: Path) -> str:
    return amtool.render(TEMPLATES, f'{{{{ template "{template}" . }}}}', data)


def test_the_title_names_status_count_alert_and_severity(notification):
    assert render(names.TITLE_TEMPLATE, notification) == (
        "[FIRING:7] RunnerStallFastBurn (critical)"
    )


def test_the_text_shows_slo_burn_type_labels_and_runbook(notification):
    text = render(names.TEXT_TEMPLATE, notification)
    block = text[text.index("RunnerStallFastBurn: ") :].split("\n\n")[0]
    assert block.splitlines() == [
        "RunnerStallFastBurn: Runner executions are stalling at 10x the stall budget.",
        "SLO: stall-ratio",
        "Burn type: fast",
        "Environment: ci",
        "Host: runner-7",
        "Command type: test",
        "Runbook: https://spark-platform/docs/runbooks/runner-fast-burn",
        "Details: Error ratio above 0.2 over 5m (10x the error budget); error "
        "budget 0.02 over 30d.",
    ]
    assert "Runbook: https://spark-platform/docs/runbooks/config-validation" in text


def test_the_html_links_the_runbook(notification):
    html = amtool.render(
        TEMPLATES, f'{{{{ template "{names.HTML_TEMPLATE}" . }}}}', notification
    )
    assert '<a href="https://spark-platform/docs/runbooks/runner-fast-burn">' in html
    assert "<tr><td>Host</td><td>runner-7</td></tr>" in html


SECRET_KEYS = {"api_url", "webhook_url", "auth_password", "credentials", "password"}


def keys_and_values(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key), value
            yield from keys_and_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from keys_and_values(item)


def test_no_secret_is_written_only_paths_to_files_holding_them():
    found = list(keys_and_values(load(CONFIG)))
    assert not {key for key, _ in found} & SECRET_KEYS
    files = [value for key, value in found if key.endswith("_file")]
    assert len(files) == 6
    assert all(value.startswith("/etc/alertmanager/secrets/") for value in files)
    for path in sorted((ROOT / "alertmanager").rglob("*")):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "hooks.slack.com" not in text
            assert "discord.com/api/webhooks" not in text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def alertmanager(tmp_path) -> Iterator[str]:
    """The real Alertmanager on loopback with the committed config."""
    program = next(p for p in map(shutil.which, ALERTMANAGER_PROGRAMS) if p)
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [
            program,
            f"--config.file={CONFIG}",
            f"--storage.path={tmp_path}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api/v2"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/status", timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (
                    tmp_path / "alertmanager.log"
                ).read_text()
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def post_alerts(url: str, alerts: list[dict[str, str]]) -> None:
    body = json.dumps([{"labels": labels} for labels in alerts]).encode()
    request = urllib.request.Request(
        f"{url}/alerts", body, {"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(request, timeout=5).close()


def states(url: str) -> dict[tuple[str, str], str]:
    with urllib.request.urlopen(f"{url}/alerts", timeout=5) as response:
        alerts = json.load(response)
    return {
        (a["labels"]["alertname"], a["labels"]["host"]): a["status"]["state"]
        for a in alerts
    }


def test_a_fast_burn_silences_the_slow_burn_of_the_same_slo_and_labels(alertmanager):
    labels = {
        "service": "runner",
        "team": "platform",
        "slo": "stall-ratio",
        "environment": "ci",
        "command_type": "test",
    }
    fast = {
        "alertname": "RunnerStallFastBurn",
        "severity": "critical",
        "burn_type": "fast",
    }
    slow = {
        "alertname": "RunnerStallSlowBurn",
        "severity": "warning",
        "burn_type": "slow",
    }
    latency_slow = {
        **labels,
        "slo": "execution-latency",
        "alertname": "RunnerLatencySlowBurn",
        "severity": "warning",
        "burn_type": "slow",
        "host": "runner-1",
    }
    post_alerts(
        alertmanager,
        [
            {**labels, **fast, "host": "runner-1"},
            {**labels, **slow, "host": "runner-1"},
            {**labels, **slow, "host": "runner-2"},
            latency_slow,
        ],
    )
    expected = {
        ("RunnerStallFastBurn", "runner-1"): "active",
        ("RunnerStallSlowBurn", "runner-1"): "suppressed",
        ("RunnerStallSlowBurn", "runner-2"): "active",  # another host
        ("RunnerLatencySlowBurn", "runner-1"): "active",  # another SLO
    }
    for _ in range(50):
        if states(alertmanager) == expected:
            break
        time.sleep(0.1)
    assert states(alertmanager) == expected
