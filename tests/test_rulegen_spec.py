"""The shipped spec's model, the burn-rate preset and the never-fire policy."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from rulegen import burnrate, decimals
from rulegen.errors import SpecError
from rulegen.spec.loader import load_spec
from rulegen.spec.model import EventCountSLI, LatencySLI

ROOT = Path(__file__).resolve().parent.parent
H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture(scope="module")
def shipped():
    spec, warnings = load_spec(ROOT / "slo.yaml")
    assert warnings == []
    return spec


def tiers(spec, alert_name):
    [alert] = [a for s in spec.slos for a in s.alerts if a.name == alert_name]
    return [
        (
            t.long_window,
            t.short_window,
            decimals.render(t.burn_factor),
            decimals.render(t.threshold),
        )
        for t in alert.tiers
    ]


def test_the_historical_stall_alerts_keep_their_numbers(shipped):
    assert tiers(shipped, "RunnerStallFastBurn") == [(5 * M, None, "10", "0.2")]
    assert tiers(shipped, "RunnerStallSlowBurn") == [(H, None, "2.5", "0.05")]
    stall = shipped.slos[0]
    [fast, slow] = stall.alerts
    assert (fast.severity, fast.burn_type, fast.for_) == ("critical", "fast", 10 * M)
    assert (slow.severity, slow.burn_type, slow.for_) == ("warning", "slow", 2 * H)
    assert fast.runbook_url == "https://spark-platform/docs/runbooks/runner-fast-burn"
    assert slow.runbook_url == "https://spark-platform/docs/runbooks/runner-slow-burn"
    assert stall.aggregate_by == ("environment", "host", "command_type")


def test_the_latency_slo_gets_the_workbook_preset(shipped):
    assert tiers(shipped, "RunnerLatencyFastBurn") == [
        (H, 5 * M, "14.4", "0.72"),
        (6 * H, 30 * M, "6", "0.3"),
    ]
    assert tiers(shipped, "RunnerLatencySlowBurn") == [
        (24 * H, 2 * H, "3", "0.15"),
        (72 * H, 6 * H, "1", "0.05"),
    ]
    latency = shipped.slos[1]
    assert isinstance(latency.sli, LatencySLI)
    assert latency.sli.threshold_seconds == 60


def test_the_auto_skip_budget_allows_3_a_day(shipped):
    skips = shipped.slos[2]
    assert isinstance(skips.sli, EventCountSLI)
    assert (skips.sli.max_events, skips.period) == (3, 24 * H)
    assert (skips.base_window, skips.interval) == (10 * M, M)
    assert tiers(shipped, "RunnerAutoSkipBudgetExhausted") == [(24 * H, None, "1", "3")]


def test_ratio_slos_count_in_tiles_of_their_base_window(shipped):
    ratio_slos = [s for s in shipped.slos if not isinstance(s.sli, EventCountSLI)]
    assert {(s.base_window, s.interval) for s in ratio_slos} == {(5 * M, 5 * M)}


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (
            timedelta(days=30),
            [(H, 5 * M), (6 * H, 30 * M), (24 * H, 2 * H), (72 * H, 6 * H)],
        ),
        (
            timedelta(days=7),
            [(15 * M, 5 * M), (85 * M, 5 * M), (335 * M, 30 * M), (1010 * M, 85 * M)],
        ),
    ],
    ids=["30d", "7d"],
)
def test_preset_windows_scale_with_the_period_and_keep_their_factors(period, expected):
    scaled = [burnrate.scale(t, period, 5 * M) for t in burnrate.PRESET]
    assert [(s.long_window, s.short_window) for s in scaled] == expected
    assert [s.burn_factor for s in scaled] == [
        Decimal(f) for f in ("14.4", "6", "3", "1")
    ]


def test_the_preset_factors_follow_from_budget_consumed_over_the_window():
    for tier in burnrate.PRESET:
        windows = burnrate.REFERENCE_PERIOD // tier.long_window
        assert tier.budget_consumed * windows == tier.burn_factor


LOOSE = """\
service: runner
team: platform
slos:
  - name: failures
    objective: 0.8
    sli:
      events_ratio:
        bad: jobs_total{result="failure"}
        total: jobs_total
    burn_rate_alerts:
      fast:
        name: FailuresFastBurn
        severity: critical
        runbook: failures
        summary: Failing.
      slow:
        name: FailuresSlowBurn
        severity: warning
        runbook: failures
        summary: Failing.
"""


def test_preset_tiers_that_can_never_fire_are_dropped_with_a_warning(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(LOOSE, encoding="utf-8")
    spec, warnings = load_spec(path)
    assert [str(w).split(": ", 1)[1] for w in warnings] == [
        "warning: slos[0].burn_rate_alerts.fast: preset tier 14.4x over 1h and 5m "
        "of alert 'FailuresFastBurn' can never fire (14.4 x error budget 0.2 >= 1); "
        "dropped",
        "warning: slos[0].burn_rate_alerts.fast: preset tier 6x over 6h and 30m of "
        "alert 'FailuresFastBurn' can never fire (6 x error budget 0.2 >= 1); dropped",
        "warning: slos[0].burn_rate_alerts.fast: alert 'FailuresFastBurn' dropped: "
        "none of its preset tiers can fire",
    ]
    assert [a.name for a in spec.slos[0].alerts] == ["FailuresSlowBurn"]
    assert tiers(spec, "FailuresSlowBurn") == [
        (24 * H, 2 * H, "3", "0.6"),
        (72 * H, 6 * H, "1", "0.2"),
    ]


def test_an_explicit_alert_that_can_never_fire_is_an_error(tmp_path):
    text = LOOSE.split("    burn_rate_alerts:")[0] + (
        "    alerts:\n"
        "      - {name: Never, severity: critical, burn_type: fast, long_window: 1h,\n"
        "         burn_factor: 14.4, runbook: failures, summary: Never.}\n"
    )
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    [problem] = raised.value.problems
    assert (problem.line, problem.column, problem.path) == (
        12,
        23,
        "slos[0].alerts[0].burn_factor",
    )
    assert "can never fire: its error-ratio threshold 2.88" in problem.message


def test_an_slo_left_without_any_alert_is_an_error(tmp_path):
    text = LOOSE.replace("objective: 0.8", "objective: 0.2").split("      slow:")[0]
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    assert [(p.line, p.path) for p in raised.value.problems] == [(4, "slos[0]")]
    assert raised.value.problems[0].message.startswith("no alert of this SLO is left")
