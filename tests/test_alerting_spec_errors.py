"""A wrong routing or gauge-alert section: one problem per mistake, each
naming file, line, column and key path, the bad value and what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rulegen.cli import main
from rulegen.errors import SpecError
from rulegen.spec.loader import load_spec

VALID = """\
service: runner
team: platform
slos:
  - name: stall-ratio
    objective: 0.98
    sli:
      events_ratio:
        bad: spark_runner_stalls_total{service="runner"}
        total: spark_runner_executions_total{service="runner"}
    alerts:
      - name: StallFastBurn
        severity: critical
        burn_type: fast
        long_window: 5m
        threshold: 0.2
        runbook: runner-fast-burn
        summary: Stalls burn the budget.
gauge_alerts:
  - name: ConfigInvalid
    severity: warning
    gauge: spark_runner_config_valid
    equals: 0
    runbook: config-validation
    summary: The config did not reload.
routing:
  receiver: team
  routes:
    critical: pager
    warning: team
  receivers:
    - name: team
      slack:
        - channel: "#team"
          api_url_file: /etc/alertmanager/secrets/slack
    - name: pager
      discord:
        - webhook_url_file: /etc/alertmanager/secrets/discord
      email:
        - to: oncall@example.org
          from: am@example.org
          smarthost: smtp.example.org:587
          auth_username: am@example.org
          auth_password_file: /etc/alertmanager/secrets/smtp
"""


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def problems(text: str) -> list[str]:
    Path("spec.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec("spec.yaml")
    return [str(problem) for problem in raised.value.problems]


def test_the_valid_base_loads():
    Path("spec.yaml").write_text(VALID, encoding="utf-8")
    spec, warnings = load_spec("spec.yaml")
    assert warnings == []
    assert spec.routing is not None
    assert [r.name for r in spec.routing.receivers] == ["team", "pager"]
    assert spec.routing.routes == {"critical": "pager", "warning": "team"}
    [gauge] = spec.gauge_alerts
    assert (gauge.name, gauge.op, str(gauge.value)) == ("ConfigInvalid", "==", "0")
    assert gauge.runbook_url == "https://spark-platform/docs/runbooks/config-validation"


CHANNELS = "slack, discord, email, webhook"
CASES = {
    "receiver-without-channel": (
        (
            '      slack:\n        - channel: "#team"\n'
            "          api_url_file: /etc/alertmanager/secrets/slack\n",
            "",
        ),
        [
            "spec.yaml:31:7: routing.receivers[0]: receiver 'team' has no channel; "
            f"accepted: at least one of {CHANNELS}"
        ],
    ),
    "receiver-with-an-empty-channel-list": (
        (
            '      slack:\n        - channel: "#team"\n'
            "          api_url_file: /etc/alertmanager/secrets/slack\n",
            "      slack: []\n",
        ),
        [
            "spec.yaml:32:14: routing.receivers[0].slack: expected at least one "
            "channel, got an empty list"
        ],
    ),
    "severity-without-route": (
        ("    warning: team\n", ""),
        [
            "spec.yaml:28:5: routing.routes: no route for severity 'warning', which "
            "alert 'ConfigInvalid' uses (line 20, column 15); accepted: a route for "
            "every severity the alerts use"
        ],
    ),
    "duplicate-receiver-name": (
        ("    - name: pager\n", "    - name: team\n"),
        [
            "spec.yaml:35:13: routing.receivers[1].name: duplicate receiver name "
            "'team'; first used at line 31, column 13",
            "spec.yaml:28:15: routing.routes.critical: 'pager' is not a receiver; "
            "accepted: team",
        ],
    ),
    "route-to-an-unknown-receiver": (
        ("    critical: pager\n", "    critical: pagr\n"),
        [
            "spec.yaml:28:15: routing.routes.critical: 'pagr' is not a receiver; "
            "accepted: team, pager"
        ],
    ),
    "inline-secret": (
        (
            "          api_url_file: /etc/alertmanager/secrets/slack\n",
            "          api_url: https://hooks.example/T0/B0/xyz\n",
        ),
        [
            "spec.yaml:34:11: routing.receivers[0].slack[0].api_url: 'api_url' would "
            "put a secret into the generated config; accepted: 'api_url_file', the "
            "path of a file holding it",
        ],
    ),
    "relative-secret-file": (
        ("/etc/alertmanager/secrets/discord", "secrets/discord"),
        [
            "spec.yaml:37:29: routing.receivers[1].discord[0].webhook_url_file: "
            "'secrets/discord' is not an absolute path to the file holding the secret"
        ],
    ),
    "unknown-severity-route": (
        ("    warning: team\n", "    warning: team\n    page: team\n"),
        [
            "spec.yaml:30:5: routing.routes.page: unknown key 'page'; accepted keys: "
            "critical, warning, info"
        ],
    ),
    "gauge-alert-without-comparison": (
        ("    equals: 0\n", ""),
        ["spec.yaml:19:5: gauge_alerts[0]: give exactly one of: equals, below, above"],
    ),
    "gauge-alert-with-an-expression": (
        ("gauge: spark_runner_config_valid", "gauge: max(spark_runner_config_valid)"),
        [
            "spec.yaml:21:12: gauge_alerts[0].gauge: 'max(spark_runner_config_valid)' "
            "is an expression (AggregateExpr), not a selector; accepted: a PromQL "
            "selector: one metric name with optional label matchers, such as "
            'spark_runner_stalls_total{service="runner"}'
        ],
    ),
    "gauge-alert-named-like-an-slo-alert": (
        ("  - name: ConfigInvalid\n", "  - name: StallFastBurn\n"),
        [
            "spec.yaml:19:11: gauge_alerts[0].name: duplicate alert name "
            "'StallFastBurn'; first used at line 11, column 15"
        ],
    ),
}


@pytest.mark.parametrize(("edit", "expected"), CASES.values(), ids=CASES.keys())
def test_each_mistake_is_reported_where_it_stands(edit, expected):
    old, new = edit
    assert old in VALID
    assert problems(VALID.replace(old, new, 1)) == sorted(expected)


def test_the_cli_names_the_place_and_exits_1_without_a_traceback():
    Path("spec.yaml").write_text(VALID.replace("    warning: team\n", ""), "utf-8")
    result = CliRunner().invoke(main, ["build", "spec.yaml"])
    assert result.exit_code == 1
    assert result.output.splitlines()[1].startswith(
        "  spec.yaml:28:5: routing.routes: no route for severity 'warning'"
    )
    assert "Traceback" not in result.output
    assert not Path("alertmanager").exists()


def test_without_a_routing_section_no_alertmanager_config_is_written():
    text = VALID[: VALID.index("routing:")]
    Path("spec.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "spec.yaml"])
    assert result.exit_code == 0, result.output
    assert not Path("alertmanager").exists()
    assert Path("dashboards/runner-slos.json").is_file()
