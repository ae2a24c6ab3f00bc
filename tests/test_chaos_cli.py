"""The chaos command's surface: a dry run that starts and writes nothing,
scenario selection, the rendering of results, and a failing scenario in a
real lab (reported, the others still run, the lab kept for reading)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.chaos.outcome import Outcome, ScenarioFailed
from exporter.chaos.report import render_outcome, render_summary
from exporter.chaos.scenario import ChaosSettings, Scenario
from exporter.chaos.suite import NAMES, chosen, run_suite
from exporter.cli import main


def refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("a dry run must not start or create anything")


@pytest.fixture
def nothing_may_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Guards on every way the suite starts a process or makes its lab; the
    temporary directory is pointed at an empty one that must stay empty."""
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(os, "posix_spawn", refuse)
    monkeypatch.setattr(os, "posix_spawnp", refuse)
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "shown", "absent"),
    [
        pytest.param([], list(NAMES), [], id="all-by-default"),
        pytest.param(["all"], list(NAMES), [], id="all"),
        pytest.param(
            ["burst", "--burst-jobs", "7"],
            ["scenario burst", "start 7 jobs of type chaos_burst"],
            ["scenario io", "scenario hang"],
            id="burst-alone",
        ),
        pytest.param(
            ["evidence", "io"],
            ["scenario io", "scenario evidence"],
            ["scenario hang", "scenario metrics"],
            id="two-in-suite-order",
        ),
    ],
)
def test_a_dry_run_says_what_it_would_start_and_starts_nothing(
    nothing_may_start: Path, args: list[str], shown: list[str], absent: list[str]
) -> None:
    result = CliRunner().invoke(main, ["chaos", "--dry-run", *args])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("dry run: nothing is started")
    assert "runner-watchdog serve --config <lab>/runner.yaml" in result.output
    assert "--listen 127.0.0.1:0" in result.output
    assert "stall_seconds: 2" in result.output
    for text in shown:
        assert text in result.output
    for text in absent:
        assert text not in result.output
    assert list(nothing_may_start.iterdir()) == []


def test_scenarios_run_in_suite_order_whatever_the_order_named() -> None:
    assert [s.name for s in chosen(["evidence", "io"])] == ["io", "evidence"]
    assert [s.name for s in chosen([])] == list(NAMES)


def test_an_unknown_scenario_is_refused() -> None:
    result = CliRunner().invoke(main, ["chaos", "--dry-run", "flood"])

    assert result.exit_code == 2
    assert "'flood' is not one of 'all', 'io', 'hang'" in result.output


FAILED = Outcome(
    scenario="hang",
    passed=False,
    did="ran a hung tree",
    expected="1 stall",
    saw="0 stalls; FAILED: 0 stalls counted",
    detection="not measured",
    detection_seconds=None,
    elapsed_seconds=12.3,
)


def test_a_failed_outcome_reads_as_one() -> None:
    text = render_outcome(FAILED)
    summary = render_summary([FAILED], 12.5)

    assert text.splitlines() == [
        "FAIL hang (12.3 s)",
        "  did:       ran a hung tree",
        "  expected:  1 stall",
        "  saw:       0 stalls; FAILED: 0 stalls counted",
        "  detection: not measured",
        "",
    ]
    assert summary.splitlines()[-1] == "chaos: 0 passed, 1 failed in 12.5 s"


def _gives_up(lab: object, settings: ChaosSettings) -> Outcome:
    raise ScenarioFailed("no stall on /metrics within 1 s")


def _breaks(lab: object, settings: ChaosSettings) -> Outcome:
    raise RuntimeError("boom")


def _passes(lab: object, settings: ChaosSettings) -> Outcome:
    return Outcome("fine", True, "nothing", "nothing", "nothing", "none", None)


@pytest.mark.slow
def test_failing_scenarios_are_reported_and_the_lab_kept(tmp_path: Path) -> None:
    scenarios = [
        Scenario("stuck", "gives up", lambda s: [], _gives_up),
        Scenario("broken", "raises", lambda s: [], _breaks),
        Scenario("fine", "passes", lambda s: [], _passes),
    ]
    shown, progress = io.StringIO(), io.StringIO()

    result = run_suite(
        scenarios,
        ChaosSettings(),
        show=shown,
        progress_stream=progress,
        parent=tmp_path,
    )
    try:
        assert [o.passed for o in result.outcomes] == [False, False, True]
        assert result.outcomes[0].saw == "gave up: no stall on /metrics within 1 s"
        assert result.outcomes[1].saw == "error: RuntimeError: boom"
        assert result.kept
        kept = result.lab_directory
        assert kept.parent == tmp_path
        assert "RuntimeError: boom" in (kept / "chaos-errors.log").read_text()
        assert "listening on http://127.0.0.1:" in (kept / "exporter.log").read_text()
        assert "FAIL stuck" in shown.getvalue() and "PASS fine" in shown.getvalue()
    finally:
        shutil.rmtree(result.lab_directory, ignore_errors=True)
