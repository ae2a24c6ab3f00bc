"""``runner-watchdog chaos all`` for real: a real exporter on loopback, real
misbehaving processes, every scenario passing with the numbers it reports,
and nothing left behind (no process, no lab directory)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from serve_support import COMMAND

pytestmark = pytest.mark.slow

SCENARIOS = ["io", "hang", "burst", "metrics", "evidence"]
BURST_JOBS = 20


@pytest.fixture(scope="module")
def chaos_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the whole suite, shared by the tests of this module."""
    base = tmp_path_factory.mktemp("chaos")
    labs = base / "tmp"
    labs.mkdir()
    report = base / "report.json"
    done = subprocess.run(
        [COMMAND, "chaos", "all", "--report", str(report)],
        env={**os.environ, "TMPDIR": str(labs)},
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    return {
        "done": done,
        "labs": labs,
        "report": json.loads(report.read_text()) if report.exists() else None,
    }


def scenario(chaos_run: dict[str, Any], name: str) -> dict[str, Any]:
    document = chaos_run["report"]
    assert document is not None, chaos_run["done"].stderr
    [found] = [s for s in document["scenarios"] if s["scenario"] == name]
    assert found["passed"], found["saw"]
    facts: dict[str, Any] = found["facts"]
    return facts


def test_every_scenario_passes(chaos_run: dict[str, Any]) -> None:
    done = chaos_run["done"]
    document = chaos_run["report"]

    assert done.returncode == 0, done.stdout + done.stderr
    assert [s["scenario"] for s in document["scenarios"]] == SCENARIOS
    assert [s["passed"] for s in document["scenarios"]] == [True] * 5
    assert document["passed"] is True
    assert "chaos: 5 passed, 0 failed in " in done.stdout
    for name in SCENARIOS:
        assert f"PASS {name} (" in done.stdout
    assert "Traceback" not in done.stderr


def test_it_prints_what_it_did_expected_and_saw_and_a_progress_line(
    chaos_run: dict[str, Any],
) -> None:
    done = chaos_run["done"]

    for label in ("did:", "expected:", "saw:", "detection:"):
        assert done.stdout.count(f"  {label}") == len(SCENARIOS)
    # stderr is not a terminal here: each step is a line of its own
    assert "chaos: [1/5 io " in done.stderr
    assert "chaos: [3/5 burst " in done.stderr


def test_io_is_never_flagged(chaos_run: dict[str, Any]) -> None:
    facts = scenario(chaos_run, "io")

    assert (facts["stalls_counted"], facts["stall_events"]) == (0, 0)
    assert facts["jobs_watched"] == facts["jobs"] == 4
    assert facts["mib_written"] > 0 and facts["mib_read"] > 0


def test_a_hung_child_is_flagged_and_its_tree_killed(
    chaos_run: dict[str, Any],
) -> None:
    facts = scenario(chaos_run, "hang")

    assert facts["cause"] == ["child_hang"]
    assert len(facts["members"]) == 3
    assert facts["killed"] == facts["members"]
    assert facts["survivors"] == []
    assert (facts["auto_skips"], facts["skipped_executions"]) == (1, 1)
    assert facts["flag_seconds"] > 0


def test_a_burst_is_counted_once_per_job(chaos_run: dict[str, Any]) -> None:
    facts = scenario(chaos_run, "burst")

    assert facts["jobs"] == BURST_JOBS
    assert facts["stalls_counted"] == facts["stalls_while_holding"] == BURST_JOBS
    assert facts["stall_events"] == facts["stall_event_processes"] == BURST_JOBS
    assert facts["executions_counted"] == facts["execution_events"] == BURST_JOBS


def test_metrics_equal_the_evidence(chaos_run: dict[str, Any]) -> None:
    facts = scenario(chaos_run, "metrics")

    assert facts["mismatches"] == []
    assert facts["run_results"] == {"success": 1, "failure": 1, "skipped": 1}
    for counted, recorded in facts["totals"].values():
        assert counted == recorded
    # every job of the earlier scenarios and the runs: 4 + 1 + 20 + 3
    assert facts["totals"]["spark_runner_executions_total"] == [28, 28]
    assert facts["totals"]["spark_runner_stalls_total"] == [22, 22]


def test_evidence_is_private_sealed_and_tamper_evident(
    chaos_run: dict[str, Any],
) -> None:
    facts = scenario(chaos_run, "evidence")

    modes = facts["modes"]
    assert modes.pop(".") == "0700"
    assert set(modes.values()) == {"0600"}
    assert "daily_report_manifest.json" in modes
    assert facts["sealed"]
    assert facts["verify_after_rotation"] == 0
    assert facts["verify_after_tampering"] == 1
    assert facts["altered"] == [facts["tampered_file"]]
    assert facts["verify_after_restoring"] == 0


def test_nothing_is_left_behind(chaos_run: dict[str, Any]) -> None:
    labs: Path = chaos_run["labs"]

    assert list(labs.iterdir()) == []
    assert chaos_run["report"]["lab_kept"] is False
    assert processes_mentioning(str(labs)) == []


def processes_mentioning(text: str) -> list[str]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                line = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in line:
            found.append(f"{name}: {line}")
    return found
