"""Which sealed files retention deletes.

A sealed file expires when its latest record is older than
``retention_days`` (the manifest's ``last_timestamp``; for a file without
one, the end of the day its name carries). Then, while the directory's
evidence (active and sealed files) exceeds ``max_total_bytes``, the oldest
sealed files go first. Active files are never deleted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from exporter.config.model import Rotation
from exporter.evidence.events import parse_timestamp
from exporter.evidence.layout import SealedName, parse_sealed_name
from exporter.evidence.manifest import ManifestEntry


@dataclass(frozen=True)
class RetentionPlan:
    expired: tuple[str, ...]  # past retention_days
    evicted: tuple[str, ...]  # oldest, to get under max_total_bytes
    forgotten: tuple[str, ...]  # manifest entries of missing, expired files


def plan_retention(
    entries: Mapping[str, ManifestEntry],
    present: Sequence[tuple[SealedName, int]],
    active_bytes: int,
    rotation: Rotation,
    now: datetime,
) -> RetentionPlan:
    """Decide deletions. ``present`` lists the sealed files on disk, oldest
    first, with their sizes; ``active_bytes`` is what active files hold."""
    cutoff = now - timedelta(days=rotation.retention_days)
    expired = [
        name.name
        for name, _ in present
        if latest_record(name, entries.get(name.name)) < cutoff
    ]
    kept = [(name, size) for name, size in present if name.name not in expired]
    total = active_bytes + sum(size for _, size in kept)
    evicted: list[str] = []
    for name, size in kept:
        if total <= rotation.max_total_bytes:
            break
        evicted.append(name.name)
        total -= size
    on_disk = {name.name for name, _ in present}
    forgotten = [
        file_name
        for file_name, entry in entries.items()
        if file_name not in on_disk and _entry_expired(entry, cutoff)
    ]
    return RetentionPlan(tuple(expired), tuple(evicted), tuple(sorted(forgotten)))


def latest_record(name: SealedName, entry: ManifestEntry | None) -> datetime:
    """When a sealed file's newest record was written, as far as known."""
    if entry is not None and entry.last_timestamp is not None:
        try:
            return parse_timestamp(entry.last_timestamp)
        except ValueError:
            pass
    return datetime.combine(name.day + timedelta(days=1), time(), tzinfo=UTC)


def _entry_expired(entry: ManifestEntry, cutoff: datetime) -> bool:
    name = parse_sealed_name(entry.name)
    if name is None:
        return True  # not a name rotation makes: nothing to keep it for
    return latest_record(name, entry) < cutoff
