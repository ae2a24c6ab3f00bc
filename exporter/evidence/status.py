"""What the evidence directory holds, and how close it is to its limits."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time
from pathlib import Path

from exporter.config.model import Rotation
from exporter.contract import STREAMS
from exporter.evidence.events import as_utc, format_timestamp, parse_timestamp
from exporter.evidence.layout import (
    SealedName,
    active_path,
    active_streams,
    sealed_files,
)
from exporter.evidence.manifest import ManifestEntry, load_manifest
from exporter.evidence.permissions import naming_read_denials, require_readable


@dataclass(frozen=True)
class StreamStatus:
    stream: str
    active_bytes: int
    sealed_files: int
    sealed_bytes: int
    oldest: str | None  # oldest sealed file's name
    newest: str | None


@dataclass(frozen=True)
class LimitUse:
    """How much of one limit is used: ``used / limit``."""

    name: str
    used: float
    limit: float
    unit: str

    @property
    def fraction(self) -> float:
        return self.used / self.limit if self.limit else 0.0


@dataclass(frozen=True)
class EvidenceStatus:
    directory: str
    streams: tuple[StreamStatus, ...]
    total_bytes: int
    manifest_files: int | None  # None: no manifest
    oldest_record: str | None  # timestamp of the oldest evidence kept
    limits: tuple[LimitUse, ...]


def evidence_status(
    directory: Path, rotation: Rotation, now: datetime | None = None
) -> EvidenceStatus:
    """Sizes and limits; an EvidencePermissionError names what cannot be
    read."""
    require_readable(directory)
    with naming_read_denials():
        return _evidence_status(directory, rotation, as_utc(now or datetime.now(UTC)))


def _evidence_status(
    directory: Path, rotation: Rotation, moment: datetime
) -> EvidenceStatus:
    manifest = load_manifest(directory)
    entries = manifest.entries if manifest else {}
    names = sorted(set(STREAMS) | set(active_streams(directory)))
    streams = tuple(_stream_status(directory, stream) for stream in names)
    total = sum(item.active_bytes + item.sealed_bytes for item in streams)
    oldest = _oldest_record(sealed_files(directory), entries)
    age_days = (moment - oldest).total_seconds() / 86400 if oldest else 0.0
    limits = (
        LimitUse(
            "largest active file",
            max((item.active_bytes for item in streams), default=0),
            rotation.max_file_bytes,
            "bytes",
        ),
        LimitUse("total", total, rotation.max_total_bytes, "bytes"),
        LimitUse(
            "oldest evidence", round(age_days, 2), rotation.retention_days, "days"
        ),
    )
    return EvidenceStatus(
        directory=str(directory),
        streams=streams,
        total_bytes=total,
        manifest_files=len(entries) if manifest else None,
        oldest_record=format_timestamp(oldest) if oldest else None,
        limits=limits,
    )


def status_document(status: EvidenceStatus) -> dict[str, object]:
    """The JSON form: dataclass fields, plus each limit's fraction."""
    document = asdict(status)
    for limit, item in zip(status.limits, document["limits"], strict=True):
        item["fraction"] = round(limit.fraction, 4)
    return document


def render_status_text(status: EvidenceStatus) -> str:
    lines = [f"evidence directory {status.directory}"]
    for item in status.streams:
        span = f"{item.oldest} .. {item.newest}" if item.oldest else "none sealed"
        lines.append(
            f"  {item.stream:<14} active {item.active_bytes:>12,} B  "
            f"sealed {item.sealed_files:>4} files {item.sealed_bytes:>14,} B  {span}"
        )
    manifest = "none" if status.manifest_files is None else status.manifest_files
    lines.append(f"  total {status.total_bytes:,} B; manifest lists {manifest}")
    lines.append(f"  oldest evidence {status.oldest_record or 'none'}")
    for limit in status.limits:
        lines.append(
            f"  limit {limit.name}: {limit.used:,} of {limit.limit:,} "
            f"{limit.unit} ({limit.fraction:.0%})"
        )
    return "\n".join(lines) + "\n"


def _stream_status(directory: Path, stream: str) -> StreamStatus:
    active = _size(active_path(directory, stream))
    sealed = sealed_files(directory, stream)
    sizes = [_size(directory / name.name) for name in sealed]
    return StreamStatus(
        stream=stream,
        active_bytes=active,
        sealed_files=len(sealed),
        sealed_bytes=sum(sizes),
        oldest=sealed[0].name if sealed else None,
        newest=sealed[-1].name if sealed else None,
    )


def _size(path: Path) -> int:
    """A file's size; 0 once rotation has moved or deleted it."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _oldest_record(
    sealed: list[SealedName], entries: dict[str, ManifestEntry]
) -> datetime | None:
    """The oldest sealed file's earliest record, or the start of its day."""
    if not sealed:
        return None
    entry = entries.get(sealed[0].name)
    if entry is not None and entry.first_timestamp is not None:
        return parse_timestamp(entry.first_timestamp)
    return datetime.combine(sealed[0].day, time(), tzinfo=UTC)
