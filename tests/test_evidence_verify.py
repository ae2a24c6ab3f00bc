"""Verify rehashes sealed files and names every one that is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM, STALL_STREAM
from exporter.errors import UnreadableInputError
from exporter.evidence import EvidenceWriter, rotate, verify

DAY = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=365)
SEALED = "executions.jsonl.20240301"
OTHER = "stall-events.jsonl.20240301"


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    """Two streams with one sealed file each, and a manifest listing them."""
    with EvidenceWriter(
        tmp_path, ROOMY, host="h", environment="ci", clock=lambda: DAY
    ) as writer:
        for n in range(5):
            writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": n})
            writer.append(STALL_STREAM, "stall", "pytest", {"n": n})
    rotate(tmp_path, ROOMY, DAY + timedelta(days=1))
    assert verify(tmp_path).ok
    return tmp_path


def _flip_one_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_clean_directory_verifies(sealed):
    report = verify(sealed)
    assert (report.checked, report.problems) == (2, ())


def test_one_altered_byte_fails_naming_the_file(sealed):
    path = sealed / SEALED
    _flip_one_byte(path, path.read_bytes().index(b'"n":3') + 4)  # 3 becomes 2
    report = verify(sealed)
    assert not report.ok
    assert [(p.name, p.kind) for p in report.problems] == [(SEALED, "altered")]
    assert "recorded sha256" in report.problems[0].detail


def test_altered_byte_that_tears_a_line_is_reported_both_ways(sealed):
    path = sealed / SEALED
    _flip_one_byte(path, 0)  # "{" becomes "z"
    kinds = [(p.name, p.kind) for p in verify(sealed).problems]
    assert kinds == [(SEALED, "altered"), (SEALED, "torn")]


def test_missing_and_extra_files_are_named(sealed):
    (sealed / OTHER).unlink()
    (sealed / "audit.jsonl.20240229").write_bytes(b"{}\n")
    problems = [(p.name, p.kind) for p in verify(sealed).problems]
    assert problems == [("audit.jsonl.20240229", "extra"), (OTHER, "missing")]


def test_file_sealed_with_a_torn_line_is_reported_torn(tmp_path):
    (tmp_path / "executions.jsonl").write_bytes(
        b'{"n":1,"timestamp":"2024-03-01T00:00:00.000000Z"}\n{"n":2,"ti'
    )
    rotate(tmp_path, ROOMY, DAY + timedelta(days=1))
    problems = verify(tmp_path).problems
    assert [(p.name, p.kind, p.detail) for p in problems] == [
        (SEALED, "torn", "1 torn of 2 lines")
    ]


def test_sealed_files_without_a_manifest_are_reported(sealed):
    (sealed / "daily_report_manifest.json").unlink()
    problems = [(p.name, p.kind) for p in verify(sealed).problems]
    assert problems == [
        ("daily_report_manifest.json", "missing"),
        (SEALED, "extra"),
        (OTHER, "extra"),
    ]


def test_unparseable_manifest_is_an_error_naming_it(sealed):
    (sealed / "daily_report_manifest.json").write_text("{not json")
    with pytest.raises(UnreadableInputError, match=r"daily_report_manifest\.json"):
        verify(sealed)
