"""The daily report from real evidence files and a real SLO spec."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.config import shipped_config_path
from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM, STALL_STREAM
from exporter.evidence import EvidenceWriter, rotate
from exporter.report import daily_report, report_document, report_text
from exporter.report.summary import percentile
from rulegen.spec.loader import load_spec

DAY = date(2024, 3, 1)
NOON = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=3650)
SHIPPED_SPEC = Path(__file__).resolve().parents[1] / "slo.yaml"


class Evidence:
    """Writes events at chosen moments into one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.moment = NOON

    def _writer(self, environment: str) -> EvidenceWriter:
        return EvidenceWriter(
            self.directory,
            ROOMY,
            host="h1",
            environment=environment,
            clock=lambda: self.moment,
        )

    def execution(
        self, environment: str, command_type: str, result: str, seconds: float
    ) -> None:
        fields = {"result": result, "duration_seconds": seconds}
        with self._writer(environment) as writer:
            writer.append(EXECUTION_STREAM, "execution", command_type, fields)

    def stall(self, environment: str, command_type: str, cause: str) -> None:
        with self._writer(environment) as writer:
            writer.append(STALL_STREAM, "stall", command_type, {"cause": cause})


@pytest.fixture
def day_of_evidence(tmp_path: Path) -> Path:
    """ci/pytest: 10 runs (7 success, failure, timeout, skipped; 1..10 s)
    and one stall; ci/make: 5 successes, two over 60 s; prod/pytest: 20
    successes of 1 s, one unknown outcome and two stalls. Half of the day
    sits in a sealed file; two events just outside the day."""
    evidence = Evidence(tmp_path)
    results = ["success"] * 7 + ["failure", "timeout", "skipped"]
    for seconds, result in enumerate(results, start=1):
        evidence.execution("ci", "pytest", result, float(seconds))
    evidence.stall("ci", "pytest", "idle")
    rotate(tmp_path, Rotation(1, 1 << 40, 3650), NOON)  # seal mid-day
    for seconds in (30.0, 50.0, 60.0, 61.0, 90.0):
        evidence.execution("ci", "make", "success", seconds)
    for _ in range(20):
        evidence.execution("prod", "pytest", "success", 1.0)
    evidence.execution("prod", "pytest", "unknown", 2.0)
    evidence.stall("prod", "pytest", "io_wait")
    evidence.stall("prod", "pytest", "io_wait")
    evidence.moment = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
    evidence.execution("ci", "pytest", "failure", 1.0)
    evidence.moment = datetime(2024, 3, 2, tzinfo=UTC)
    evidence.execution("ci", "pytest", "failure", 1.0)
    return tmp_path


@pytest.mark.parametrize(
    ("values", "p95"),
    [([], None), ([7.0], 7.0), ([float(n) for n in range(1, 21)], 19.0)],
    ids=["none", "one", "twenty"],
)
def test_p95_is_the_nearest_rank(values, p95):
    assert percentile(values, 0.95) == p95


def test_counts_per_environment_and_command_type(day_of_evidence):
    spec, _ = load_spec(SHIPPED_SPEC)
    report = daily_report(day_of_evidence, DAY, spec, "runner")
    document = report_document(report)

    assert document["totals"] == {
        "executions": 36,
        "results": {
            "failure": 1,
            "skipped": 1,
            "success": 32,
            "timeout": 1,
            "unknown": 1,
        },
        "failures": 1,
        "auto_skips": 1,
        "stalls": 3,
        "stalls_by_cause": {"idle": 1, "io_wait": 2},
        "p95_duration_seconds": 61.0,
    }
    groups = {(g["environment"], g["command_type"]): g for g in document["groups"]}
    assert list(groups) == [("ci", "make"), ("ci", "pytest"), ("prod", "pytest")]
    assert groups["ci", "pytest"]["p95_duration_seconds"] == 10.0
    assert groups["ci", "make"]["p95_duration_seconds"] == 90.0
    assert groups["prod", "pytest"]["executions"] == 21
    assert groups["prod", "pytest"]["stalls_by_cause"] == {"io_wait": 2}
    assert document["evidence"] == {"files_read": 4, "torn_lines": 0}
    assert document["window"] == {
        "start": "2024-03-01T00:00:00.000000Z",
        "end": "2024-03-02T00:00:00.000000Z",
    }


def _slos(document: dict[str, object]) -> dict[str, dict[str, object]]:
    slos = document["slos"]
    assert isinstance(slos, list)
    return {slo["name"]: slo for slo in slos}


def test_shipped_slos_met_and_missed(day_of_evidence):
    spec, _ = load_spec(SHIPPED_SPEC)
    slos = _slos(report_document(daily_report(day_of_evidence, DAY, spec, "runner")))

    assert {name: slo["status"] for name, slo in slos.items()} == {
        "stall-ratio": "missed",  # 1/10 in ci/pytest, 2/21 in prod/pytest
        "execution-latency": "missed",  # 2 of 5 ci/make runs over 60 s
        "auto-skips": "met",  # one, in ci/pytest
        "failure-ratio": "missed",  # 3/10 in ci/pytest
    }
    failure = slos["failure-ratio"]
    assert (failure["objective"], failure["allowed"]) == (0.8, 0.2)
    assert failure["groups"] == [
        {
            "labels": {"environment": "ci", "command_type": "make"},
            "bad": 0,
            "total": 5,
            "ratio": 0.0,
            "status": "met",
        },
        {
            "labels": {"environment": "ci", "command_type": "pytest"},
            "bad": 3,
            "total": 10,
            "ratio": 0.3,
            "status": "missed",
        },
        {
            "labels": {"environment": "prod", "command_type": "pytest"},
            "bad": 0,
            "total": 20,  # the unknown outcome is not counted
            "ratio": 0.0,
            "status": "met",
        },
    ]
    stall = slos["stall-ratio"]["groups"]
    assert [(g["labels"]["host"], g["bad"], g["total"]) for g in stall] == [
        ("h1", 0, 5),
        ("h1", 1, 10),
        ("h1", 2, 21),
    ]
    latency = slos["execution-latency"]["groups"]
    assert [(g["bad"], g["total"], g["status"]) for g in latency] == [
        (2, 5, "missed"),
        (0, 10, "met"),
        (0, 21, "met"),
    ]


@pytest.mark.parametrize(
    ("skips", "max_events", "status"),
    [(3, 3, "met"), (4, 3, "missed"), (2, 1, "missed")],
    ids=["3-of-3", "4-of-3", "2-of-1-from-the-spec"],
)
def test_auto_skip_budget_is_read_from_the_spec(tmp_path, skips, max_events, status):
    spec_file = tmp_path / "slo.yaml"
    text = SHIPPED_SPEC.read_text()
    spec_file.write_text(text.replace("max_events: 3", f"max_events: {max_events}"))
    evidence = Evidence(tmp_path / "evidence")
    for _ in range(skips):
        evidence.execution("ci", "pytest", "skipped", 5.0)
    spec, _ = load_spec(spec_file)

    slos = _slos(
        report_document(daily_report(tmp_path / "evidence", DAY, spec, "runner"))
    )

    assert slos["auto-skips"]["status"] == status
    assert slos["auto-skips"]["allowed"] == max_events
    assert slos["auto-skips"]["groups"][0]["bad"] == skips


def test_failure_ratio_exactly_at_the_budget_is_met(tmp_path):
    evidence = Evidence(tmp_path)
    for result in ["failure"] + ["success"] * 4:
        evidence.execution("ci", "pytest", result, 1.0)
    spec, _ = load_spec(SHIPPED_SPEC)
    slos = _slos(report_document(daily_report(tmp_path, DAY, spec, "runner")))
    assert slos["failure-ratio"]["groups"][0]["ratio"] == 0.2
    assert slos["failure-ratio"]["status"] == "met"


def test_a_day_without_evidence(tmp_path):
    spec, _ = load_spec(SHIPPED_SPEC)
    report = daily_report(tmp_path / "none", DAY, spec, "runner")
    statuses = {slo.name: slo.status for slo in report.objectives}
    assert statuses == {
        "stall-ratio": "no_data",
        "execution-latency": "no_data",
        "auto-skips": "met",
        "failure-ratio": "no_data",
    }
    assert report.summary.total.executions == 0
    assert "0 execution(s)" in report_text(report)


def _cli(*args: str) -> tuple[int, str, str]:
    config = ["--config", str(shipped_config_path()), "--spec", str(SHIPPED_SPEC)]
    result = CliRunner().invoke(main, ["report", "daily", *config, *args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_json_is_sorted_and_stable(day_of_evidence):
    args = ("--dir", str(day_of_evidence), "--date", "2024-03-01", "--format", "json")
    code, first, _ = _cli(*args)
    assert code == 0
    assert _cli(*args)[1] == first
    document = json.loads(first)
    assert first == json.dumps(document, sort_keys=True, indent=2) + "\n"
    assert (document["schema_version"], document["date"]) == (1, "2024-03-01")


def test_cli_text_names_each_slo(day_of_evidence):
    code, output, _ = _cli("--dir", str(day_of_evidence), "--date", "2024-03-01")
    assert code == 0
    assert output.startswith("daily report 2024-03-01 (UTC): 4 evidence file(s) read")
    assert "  ci/pytest: 10 execution(s), 1 failure(s), 1 stall(s)" in output
    assert "  auto-skips: met (event count, allowed 3)" in output
    assert "    environment=ci command_type=pytest: 3/10 = 0.3000 missed" in output


def test_cli_refuses_a_bad_date(tmp_path):
    code, _, stderr = _cli("--dir", str(tmp_path), "--date", "2024-02-30")
    assert code == 1
    assert "--date '2024-02-30' is not a day; expected YYYY-MM-DD" in stderr
