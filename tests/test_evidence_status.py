"""Status: what the directory holds and how close each limit is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceWriter, evidence_status, rotate
from exporter.evidence.status import render_status_text, status_document

DAY = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ROTATION = Rotation(max_file_bytes=10_000, max_total_bytes=100_000, retention_days=14)


def test_status_counts_files_and_measures_each_limit(tmp_path):
    for offset in range(3):
        moment = DAY + timedelta(days=offset)
        with EvidenceWriter(
            tmp_path, ROTATION, host="h", environment="ci", clock=lambda m=moment: m
        ) as writer:
            writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": offset})
        rotate(tmp_path, ROTATION, moment + timedelta(days=1) if offset < 2 else moment)
    active = (tmp_path / "executions.jsonl").stat().st_size
    sealed = sum(
        (tmp_path / f"executions.jsonl.2024030{day}").stat().st_size for day in (1, 2)
    )

    status = evidence_status(tmp_path, ROTATION, DAY + timedelta(days=7))

    [executions] = [s for s in status.streams if s.stream == EXECUTION_STREAM]
    assert (executions.active_bytes, executions.sealed_files) == (active, 2)
    assert executions.sealed_bytes == sealed
    assert executions.oldest == "executions.jsonl.20240301"
    assert executions.newest == "executions.jsonl.20240302"
    assert status.total_bytes == active + sealed
    assert status.manifest_files == 2
    assert status.oldest_record == "2024-03-01T12:00:00.000000Z"
    limits = {limit.name: (limit.used, limit.limit) for limit in status.limits}
    assert limits == {
        "largest active file": (active, 10_000),
        "total": (active + sealed, 100_000),
        "oldest evidence": (7.0, 14),
    }
    document = status_document(status)
    assert document["limits"][2]["fraction"] == 0.5
    text = render_status_text(status)
    assert "limit oldest evidence: 7.0 of 14 days (50%)" in text
    assert "executions.jsonl.20240301 .. executions.jsonl.20240302" in text


def test_status_of_an_empty_directory(tmp_path):
    status = evidence_status(tmp_path / "absent", ROTATION, DAY)
    assert status.total_bytes == 0
    assert status.manifest_files is None
    assert status.oldest_record is None
    assert [limit.fraction for limit in status.limits] == [0.0, 0.0, 0.0]
