"""The run wrappers' evidence becomes execution, stall and auto-skip counts;
the exporter's own events are not counted twice; unknown values never
become labels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM, STALL_STREAM
from exporter.evidence import EvidenceWriter
from exporter.executions import ExecutionFollower
from exporter.metrics import ExporterMetrics
from exporter.settings import Scope

SCOPE = Scope("runner", "ci", "host-1", ("test", "other"))
TEST, OTHER = SCOPE.job_labels("test"), SCOPE.job_labels("other")
ROTATION = Rotation(50 << 20, 1 << 30, 14)


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[EvidenceWriter]:
    with EvidenceWriter(
        tmp_path, ROTATION, host="host-1", environment="ci"
    ) as evidence_writer:
        yield evidence_writer


def follow(tmp_path: Path) -> tuple[ExecutionFollower, ExporterMetrics]:
    metrics = ExporterMetrics("test")
    metrics.use_scope(SCOPE)
    return ExecutionFollower(tmp_path, metrics), metrics


def execution(writer: EvidenceWriter, command_type: str, **fields: object) -> None:
    writer.append(EXECUTION_STREAM, "execution", command_type, fields)


def test_wrapper_executions_are_counted_by_result(
    tmp_path: Path, writer: EvidenceWriter
) -> None:
    follower, metrics = follow(tmp_path)
    execution(writer, "test", result="success", duration_seconds=12.5)
    execution(writer, "test", result="failure", duration_seconds=70)
    execution(writer, "test", result="skipped", duration_seconds=300.0)

    assert follower.poll(SCOPE) == 3
    view = metrics.view()
    assert view.executions[(*TEST, "success")] == 1
    assert view.executions[(*TEST, "failure")] == 1
    assert view.executions[(*TEST, "skipped")] == 1
    assert view.auto_skips[TEST] == 1  # a wrapper's stall kill
    assert view.durations[TEST].count == 3
    assert view.durations[TEST].total == 382.5


def test_events_are_counted_once(tmp_path: Path, writer: EvidenceWriter) -> None:
    follower, metrics = follow(tmp_path)
    execution(writer, "test", result="success", duration_seconds=1.0)

    assert follower.poll(SCOPE) == 1
    assert follower.poll(SCOPE) == 0
    assert metrics.view().executions[(*TEST, "success")] == 1


def test_wrapper_stalls_are_counted_by_cause(
    tmp_path: Path, writer: EvidenceWriter
) -> None:
    follower, metrics = follow(tmp_path)
    writer.append(STALL_STREAM, "stall", "test", {"cause": "network"})

    follower.poll(SCOPE)

    assert metrics.view().stalls[(*TEST, "network")] == 1


def test_the_exporters_own_events_are_skipped(
    tmp_path: Path, writer: EvidenceWriter
) -> None:
    follower, metrics = follow(tmp_path)
    execution(writer, "test", result="unknown", observer="exporter")
    writer.append(
        STALL_STREAM, "stall", "test", {"cause": "idle", "observer": "exporter"}
    )

    assert follower.poll(SCOPE) == 0
    assert metrics.view().executions[(*TEST, "unknown")] == 0


def test_events_written_before_the_start_are_not_counted(
    tmp_path: Path, writer: EvidenceWriter
) -> None:
    execution(writer, "test", result="success")
    follower, _ = follow(tmp_path)

    assert follower.poll(SCOPE) == 0


@pytest.mark.parametrize(
    ("command_type", "fields", "counted_as"),
    [
        pytest.param("deploy-prod-7", {"result": "success"}, OTHER, id="unknown-type"),
        pytest.param(
            "test",
            {"result": "success", "duration_seconds": "5"},
            TEST,
            id="text-duration",
        ),
        pytest.param(
            "test",
            {"result": "success", "duration_seconds": -1},
            TEST,
            id="negative-duration",
        ),
    ],
)
def test_values_stay_bounded(
    tmp_path: Path,
    writer: EvidenceWriter,
    command_type: str,
    fields: dict[str, object],
    counted_as: tuple[str, ...],
) -> None:
    follower, metrics = follow(tmp_path)
    execution(writer, command_type, **fields)

    follower.poll(SCOPE)

    view = metrics.view()
    assert view.executions[(*counted_as, "success")] == 1
    assert view.durations[counted_as].count == 0


@pytest.mark.parametrize(
    ("stream", "fields"),
    [
        pytest.param(EXECUTION_STREAM, {"result": "crashed"}, id="unknown-result"),
        pytest.param(EXECUTION_STREAM, {}, id="no-result"),
        pytest.param(STALL_STREAM, {"cause": "cosmic-rays"}, id="unknown-cause"),
    ],
)
def test_uncountable_events_are_sample_errors(
    tmp_path: Path, writer: EvidenceWriter, stream: str, fields: dict[str, object]
) -> None:
    follower, metrics = follow(tmp_path)
    kind = "execution" if stream == EXECUTION_STREAM else "stall"
    writer.append(stream, kind, "test", fields)

    assert follower.poll(SCOPE) == 0
    view = metrics.view()
    assert view.sample_errors["evidence_record"] == 1
    assert sum(view.executions.values()) + sum(view.stalls.values()) == 0


def test_following_survives_a_rotation(tmp_path: Path, writer: EvidenceWriter) -> None:
    from exporter.evidence import rotate

    follower, metrics = follow(tmp_path)
    execution(writer, "test", result="success")
    rotate(tmp_path, Rotation(1, 1 << 30, 14))
    execution(writer, "test", result="failure")

    assert follower.poll(SCOPE) == 2
    assert metrics.view().executions[(*TEST, "failure")] == 1
