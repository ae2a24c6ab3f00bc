"""The evidence of one UTC day: its execution and stall events.

Only files that can hold the day's records are read: the active files, and
sealed files named up to the next day (a record stamped just before
midnight can land in the next day's file) whose latest record, as the
manifest has it, is not before the day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from exporter.contract import EXECUTION_KIND, EXECUTION_STREAM, STALL_KIND, STALL_STREAM
from exporter.evidence import Record, RecordReader, active_path, record_time
from exporter.evidence.events import KIND_KEY, parse_timestamp
from exporter.evidence.layout import sealed_files
from exporter.evidence.manifest import Manifest, load_manifest
from exporter.evidence.permissions import naming_read_denials, require_readable


@dataclass(frozen=True)
class DayEvidence:
    day: date
    executions: tuple[Record, ...]
    stalls: tuple[Record, ...]
    torn_lines: int  # in the files read, whatever their day
    files_read: int


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC day as a half-open interval [start, end)."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def load_day(directory: Path, day: date) -> DayEvidence:
    """The day's events; an EvidencePermissionError names a file that
    cannot be read."""
    require_readable(directory)
    with naming_read_denials():
        return _load_day(directory, day)


def _load_day(directory: Path, day: date) -> DayEvidence:
    manifest = load_manifest(directory) or Manifest({}, frozenset())
    start, end = day_bounds(day)
    found: dict[str, list[Record]] = {EXECUTION_STREAM: [], STALL_STREAM: []}
    torn = files = 0
    for stream, records in found.items():
        for path in _files_for(directory, stream, day, manifest):
            reader = RecordReader(path)
            records.extend(_within(reader, start, end))
            torn += reader.torn
            files += 1
    return DayEvidence(
        day=day,
        executions=_of_kind(found[EXECUTION_STREAM], EXECUTION_KIND),
        stalls=_of_kind(found[STALL_STREAM], STALL_KIND),
        torn_lines=torn,
        files_read=files,
    )


def _files_for(
    directory: Path, stream: str, day: date, manifest: Manifest
) -> Iterator[Path]:
    start, _ = day_bounds(day)
    for name in sealed_files(directory, stream):
        if name.day > day + timedelta(days=1):
            continue
        entry = manifest.entries.get(name.name)
        if (
            entry
            and entry.last_timestamp
            and parse_timestamp(entry.last_timestamp) < start
        ):
            continue
        yield directory / name.name
    active = active_path(directory, stream)
    if active.exists():
        yield active


def _within(records: RecordReader, start: datetime, end: datetime) -> Iterator[Record]:
    for record in records:
        moment = record_time(record)
        if moment is not None and start <= moment < end:
            yield record


def _of_kind(records: list[Record], kind: str) -> tuple[Record, ...]:
    return tuple(record for record in records if record.get(KIND_KEY) == kind)
