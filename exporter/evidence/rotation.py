"""Sealing active files, applying retention and rewriting the manifest.

``rotate`` is what ``runner-watchdog evidence rotate`` runs, what the
exporter runs daily, and what a writer runs when a file reaches its size
limit. An active file is sealed by renaming it (never copy-and-truncate)
while the append lock is held, so every line lands whole in exactly one
file; writers notice the new inode and create a fresh active file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from exporter.config.model import Rotation
from exporter.evidence.events import as_utc
from exporter.evidence.failures import naming_failures
from exporter.evidence.layout import (
    LOCK_NAME,
    MAINTENANCE_LOCK_NAME,
    SealedName,
    active_path,
    active_streams,
    next_sealed_name,
    sealed_files,
)
from exporter.evidence.locking import DirectoryLock, holding
from exporter.evidence.manifest import (
    Manifest,
    ManifestEntry,
    describe_file,
    fsync_directory,
    load_manifest,
    write_manifest,
)
from exporter.evidence.permissions import (
    require_directory_access,
    require_read_write,
    require_readable,
)
from exporter.evidence.reader import parse_line, record_time
from exporter.evidence.retention import plan_retention

logger = logging.getLogger(__name__)

_HEAD_BYTES: Final = 64 * 1024  # where a file's first record is looked for
_STOPPED: Final = "rotation stopped with no evidence lost; the next one finishes it"


@dataclass(frozen=True)
class RotationResult:
    sealed: tuple[str, ...] = ()  # new sealed files
    expired: tuple[str, ...] = ()  # deleted: past retention
    evicted: tuple[str, ...] = ()  # deleted: over the total size cap


@dataclass(frozen=True)
class _Seal:
    stream: str
    target: SealedName


def rotate(
    directory: Path,
    rotation: Rotation,
    now: datetime | None = None,
    *,
    wait: bool = True,
) -> RotationResult | None:
    """Seal what is due, apply retention and rewrite the manifest.

    A file is due when it holds data from a UTC day before ``now`` or has
    reached ``max_file_bytes``. Without ``wait``, returns None at once when
    another rotation holds the directory. Permission problems raise
    EvidencePermissionError before anything changes; a full disk or an I/O
    error met later raises EvidenceStorageError, with nothing lost.
    """
    moment = as_utc(now or datetime.now(UTC))
    if not directory.is_dir():
        return RotationResult()
    require_directory_access(directory)
    maintenance = directory / MAINTENANCE_LOCK_NAME
    with naming_failures(directory, _STOPPED), holding(maintenance, wait=wait) as ok:
        if not ok:
            return None
        return _rotate_locked(directory, rotation, moment)


def _rotate_locked(
    directory: Path, rotation: Rotation, now: datetime
) -> RotationResult:
    manifest = load_manifest(directory) or Manifest({}, frozenset())
    seals = _due_seals(directory, rotation, now.date())
    _check_permissions(directory, manifest)

    entries = dict(manifest.entries)
    entries.update(_finish_interrupted(directory, manifest))
    if seals:
        pending = [seal.target.name for seal in seals]
        write_manifest(directory, entries.values(), now, pending=pending)
        sealed = _rename(directory, seals)
        entries.update(_measure(directory, sealed))
    else:
        sealed = []

    plan = plan_retention(
        entries, _present(directory), _active_bytes(directory), rotation, now
    )
    for name in (*plan.expired, *plan.evicted, *plan.forgotten):
        entries.pop(name, None)

    # The manifest stops listing a file before it is deleted: a rotation
    # stopped in between leaves a file a later one deletes, never a hole.
    if entries != manifest.entries or manifest.pending:
        write_manifest(directory, entries.values(), now)
    for name in (*plan.expired, *plan.evicted):
        (directory / name).unlink(missing_ok=True)
        logger.info("evidence file deleted name=%s", name)
    return RotationResult(tuple(sealed), plan.expired, plan.evicted)


def _due_seals(directory: Path, rotation: Rotation, today: date) -> list[_Seal]:
    """The active files to seal now, each with its sealed name."""
    taken = {name.name for name in sealed_files(directory)}
    seals = []
    for stream in active_streams(directory):
        path = active_path(directory, stream)
        status = path.stat()
        if status.st_size == 0:
            continue
        require_readable(path, before_changes=True)
        day = _first_record_day(path) or _utc_day(status.st_mtime)
        if day >= today and status.st_size < rotation.max_file_bytes:
            continue
        target = next_sealed_name(stream, day, taken)
        taken.add(target.name)
        seals.append(_Seal(stream, target))
    return seals


def _check_permissions(directory: Path, manifest: Manifest) -> None:
    """Everything rotation will need, checked before it changes anything
    (the directory and the active files were checked on the way here)."""
    for name in manifest.pending:
        if (directory / name).exists():
            require_readable(directory / name, before_changes=True)
    if (directory / LOCK_NAME).exists():
        require_read_write(directory / LOCK_NAME)


def _finish_interrupted(
    directory: Path, manifest: Manifest
) -> dict[str, ManifestEntry]:
    """Measure files a crashed rotation renamed but did not record."""
    found = [name for name in sorted(manifest.pending) if (directory / name).exists()]
    for name in found:
        logger.warning("evidence seal finished after interruption name=%s", name)
    return _measure(directory, found)


def _rename(directory: Path, seals: list[_Seal]) -> list[str]:
    """Rename due files to their sealed names under the append lock."""
    sealed = []
    lock = DirectoryLock(directory / LOCK_NAME)
    try:
        with lock.held():
            for seal in seals:
                source = active_path(directory, seal.stream)
                target = directory / seal.target.name
                if not source.exists() or target.exists():
                    continue  # removed by hand meanwhile; never overwrite
                os.rename(source, target)
                sealed.append(seal.target.name)
    finally:
        lock.close()
    fsync_directory(directory)
    return sealed


def _measure(directory: Path, names: list[str]) -> dict[str, ManifestEntry]:
    entries = {}
    for name in names:
        path = directory / name
        _fsync_file(path)
        entries[name] = describe_file(path)
    return entries


def _present(directory: Path) -> list[tuple[SealedName, int]]:
    present = []
    for name in sealed_files(directory):
        try:
            present.append((name, (directory / name.name).stat().st_size))
        except FileNotFoundError:
            continue
    return present


def _active_bytes(directory: Path) -> int:
    total = 0
    for stream in active_streams(directory):
        try:
            total += active_path(directory, stream).stat().st_size
        except FileNotFoundError:
            continue
    return total


def _first_record_day(path: Path) -> date | None:
    """The UTC day of the first timestamped record near the file's start."""
    with path.open("rb") as stream:
        head = stream.read(_HEAD_BYTES)
    for line in head.split(b"\n")[:-1]:
        record = parse_line(line)
        moment = None if record is None else record_time(record)
        if moment is not None:
            return moment.date()
    return None


def _utc_day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, UTC).date()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
