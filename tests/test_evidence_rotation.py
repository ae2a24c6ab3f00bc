"""Sealing by day and by size, retention, and an interrupted rotation."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exporter.config.model import Rotation
from exporter.contract import AUDIT_STREAM, EXECUTION_STREAM
from exporter.evidence import EvidenceWriter, load_manifest, rotate, verify
from exporter.evidence.manifest import write_manifest

DAY = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=365)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _write(directory: Path, moment: datetime, *numbers: int, stream=EXECUTION_STREAM):
    with EvidenceWriter(
        directory, ROOMY, host="h", environment="ci", clock=Clock(moment)
    ) as writer:
        for n in numbers:
            assert writer.append(stream, "execution", "pytest", {"n": n})


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.startswith("."))


def test_daily_rotation_seals_yesterday_under_its_utc_date(tmp_path):
    _write(tmp_path, DAY, 1, 2)
    _write(tmp_path, DAY + timedelta(hours=1), 3, stream=AUDIT_STREAM)
    sealed_bytes = (tmp_path / "executions.jsonl").read_bytes()

    result = rotate(tmp_path, ROOMY, datetime(2024, 3, 2, 0, 5, tzinfo=UTC))

    assert result is not None
    assert result.sealed == ("audit.jsonl.20240301", "executions.jsonl.20240301")
    assert _names(tmp_path) == [
        "audit.jsonl.20240301",
        "daily_report_manifest.json",
        "executions.jsonl.20240301",
    ]
    manifest = load_manifest(tmp_path)
    assert manifest is not None
    entry = manifest.entries["executions.jsonl.20240301"]
    assert entry.size == len(sealed_bytes)
    assert entry.sha256 == hashlib.sha256(sealed_bytes).hexdigest()
    assert (entry.line_count, entry.torn_lines) == (2, 0)
    assert (
        entry.first_timestamp == entry.last_timestamp == "2024-03-01T12:00:00.000000Z"
    )
    assert verify(tmp_path).ok


def test_todays_file_under_the_size_limit_stays_active(tmp_path):
    _write(tmp_path, DAY, 1)
    result = rotate(tmp_path, ROOMY, DAY + timedelta(hours=11))
    assert result is not None and result.sealed == ()
    assert _names(tmp_path) == ["executions.jsonl"]


def test_rotating_twice_changes_nothing_the_second_time(tmp_path):
    _write(tmp_path, DAY, 1)
    rotate(tmp_path, ROOMY, DAY + timedelta(days=1))
    manifest = (tmp_path / "daily_report_manifest.json").read_bytes()
    result = rotate(tmp_path, ROOMY, DAY + timedelta(days=1, hours=1))
    assert result is not None and result.sealed == ()
    assert (tmp_path / "daily_report_manifest.json").read_bytes() == manifest


def test_early_seals_take_ordered_numbered_names(tmp_path):
    small = Rotation(max_file_bytes=1, max_total_bytes=1 << 40, retention_days=365)
    for n in range(3):
        _write(tmp_path, DAY, n)
        rotate(tmp_path, small, DAY)
    _write(tmp_path, DAY, 3)
    rotate(tmp_path, ROOMY, DAY + timedelta(days=1))
    names = [name for name in _names(tmp_path) if name.startswith("executions")]
    assert names == [
        "executions.jsonl.20240301",
        "executions.jsonl.20240301.0001",
        "executions.jsonl.20240301.0002",
        "executions.jsonl.20240301.0003",
    ]
    firsts = [json.loads((tmp_path / name).read_text())["n"] for name in names]
    assert firsts == [0, 1, 2, 3]


def _twenty_days(directory: Path) -> list[str]:
    """One sealed file a day, 2024-03-01 .. 2024-03-20, records at noon."""
    for offset in range(20):
        moment = DAY + timedelta(days=offset)
        _write(directory, moment, offset)
        rotate(directory, ROOMY, moment + timedelta(hours=12, seconds=1))
    return [f"executions.jsonl.202403{day:02d}" for day in range(1, 21)]


def test_retention_deletes_exactly_the_files_past_fourteen_days(tmp_path):
    names = _twenty_days(tmp_path)
    fourteen_days = Rotation(1 << 30, 1 << 40, retention_days=14)
    now = datetime(2024, 3, 21, 0, 30, tzinfo=UTC)  # cutoff 2024-03-07 00:30

    result = rotate(tmp_path, fourteen_days, now)

    assert result is not None
    assert result.expired == tuple(names[:6])  # latest records 03-01..03-06 noon
    assert result.evicted == ()
    kept = [name for name in _names(tmp_path) if name.startswith("executions")]
    assert kept == names[6:]
    manifest = load_manifest(tmp_path)
    assert manifest is not None and sorted(manifest.entries) == names[6:]
    assert verify(tmp_path).ok


def test_total_cap_deletes_the_oldest_files_until_under_it(tmp_path):
    names = _twenty_days(tmp_path)
    sizes = [(tmp_path / name).stat().st_size for name in names]
    cap = sum(sizes[-5:]) + sizes[0] // 2  # room for five files, not six
    capped = Rotation(1 << 30, max_total_bytes=cap, retention_days=365)

    result = rotate(tmp_path, capped, datetime(2024, 3, 21, 1, 0, tzinfo=UTC))

    assert result is not None
    assert result.evicted == tuple(names[:15])
    assert result.expired == ()
    kept = [name for name in _names(tmp_path) if name.startswith("executions")]
    assert kept == names[15:]
    assert sum((tmp_path / name).stat().st_size for name in kept) <= cap
    assert verify(tmp_path).ok


def test_rotation_interrupted_after_renaming_is_finished_by_the_next(tmp_path):
    _write(tmp_path, DAY, 1)
    rotate(tmp_path, ROOMY, DAY + timedelta(days=1))
    # A crash between writing the pending manifest and measuring the file:
    _write(tmp_path, DAY + timedelta(days=1), 2)
    (tmp_path / "executions.jsonl").rename(tmp_path / "executions.jsonl.20240302")
    manifest = load_manifest(tmp_path)
    assert manifest is not None
    write_manifest(
        tmp_path,
        manifest.entries.values(),
        DAY,
        pending=["executions.jsonl.20240302", "audit.jsonl.20240302"],
    )
    assert [p.kind for p in verify(tmp_path).problems] == ["pending"]

    rotate(tmp_path, ROOMY, DAY + timedelta(days=2))

    manifest = load_manifest(tmp_path)
    assert manifest is not None
    assert manifest.pending == frozenset()
    assert sorted(manifest.entries) == [
        "executions.jsonl.20240301",
        "executions.jsonl.20240302",
    ]
    assert verify(tmp_path).ok


def test_missing_directory_is_nothing_to_rotate(tmp_path):
    result = rotate(tmp_path / "absent", ROOMY, DAY)
    assert result is not None and result.sealed == ()
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize("limit", [0, 1], ids=["empty-file", "any-size"])
def test_empty_active_file_is_never_sealed(tmp_path, limit):
    (tmp_path / "executions.jsonl").write_bytes(b"")
    rotation = Rotation(max_file_bytes=limit, max_total_bytes=1 << 40, retention_days=1)
    result = rotate(tmp_path, rotation, DAY + timedelta(days=3))
    assert result is not None and result.sealed == ()
