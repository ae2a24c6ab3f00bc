"""The manifest of sealed files, ``daily_report_manifest.json``.

It lists every sealed file with its size, line count, torn lines, earliest
and latest record timestamps and SHA-256, as measured when the file was
sealed. Rotation carries entries forward instead of rehashing, so a file
altered after sealing never launders its new hash into the manifest.
``pending`` names files a rotation is about to seal: written before the
renames, so a rotation interrupted by a crash is finished by the next one
instead of leaving unexplained files. The manifest is replaced atomically:
a temporary file is written and fsynced, then renamed over the old one, then
the directory is fsynced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from exporter.errors import UnreadableInputError
from exporter.evidence.events import TIMESTAMP_KEY, format_timestamp
from exporter.evidence.layout import MANIFEST_NAME, parse_sealed_name
from exporter.evidence.permissions import read_denial
from exporter.evidence.private import open_private
from exporter.evidence.reader import LineSplitter, Record, parse_line, record_time

MANIFEST_SCHEMA_VERSION: Final = 1
GENERATOR: Final = "runner-watchdog evidence rotate (do not edit)"
_CHUNK_BYTES: Final = 1 << 20
# format_timestamp's output, whose text order is time order.
_CANONICAL: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@dataclass(frozen=True)
class ManifestEntry:
    """One sealed file as it was when sealed."""

    name: str
    size: int
    line_count: int
    torn_lines: int
    first_timestamp: str | None  # earliest record; None when it has none
    last_timestamp: str | None  # latest record
    sha256: str


def describe_file(path: Path) -> ManifestEntry:
    """Measure a file in one pass: hash, lines, torn lines, time span."""
    digest = hashlib.sha256()
    measure = _Measure()
    splitter = LineSplitter()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            measure.lines(splitter.feed(chunk))
    if splitter.take_pending():
        measure.line_count += 1
        measure.torn_lines += 1
    return ManifestEntry(
        name=path.name,
        size=size,
        line_count=measure.line_count,
        torn_lines=measure.torn_lines,
        first_timestamp=measure.earliest,
        last_timestamp=measure.latest,
        sha256=digest.hexdigest(),
    )


class _Measure:
    """Line counts and the time span of a file's records. Timestamps in the
    writers' own fixed-width form compare as text; others are parsed."""

    def __init__(self) -> None:
        self.line_count = 0
        self.torn_lines = 0
        self.earliest: str | None = None
        self.latest: str | None = None

    def lines(self, lines: list[bytes]) -> None:
        for line in lines:
            if not line:
                continue
            self.line_count += 1
            record = parse_line(line)
            if record is None:
                self.torn_lines += 1
                continue
            stamp = _canonical_timestamp(record)
            if stamp is None:
                continue
            if self.earliest is None or stamp < self.earliest:
                self.earliest = stamp
            if self.latest is None or stamp > self.latest:
                self.latest = stamp


def _canonical_timestamp(record: Record) -> str | None:
    text = record.get(TIMESTAMP_KEY)
    if isinstance(text, str) and _CANONICAL.fullmatch(text):
        return text
    moment = record_time(record)
    return None if moment is None else format_timestamp(moment)


@dataclass(frozen=True)
class Manifest:
    entries: dict[str, ManifestEntry]  # by file name
    pending: frozenset[str]  # names being sealed, not yet measured


def manifest_path(directory: Path) -> Path:
    return directory / MANIFEST_NAME


def load_manifest(directory: Path) -> Manifest | None:
    """The manifest, or None when there is none. A manifest that cannot be
    read or parsed is an UnreadableInputError naming it."""
    path = manifest_path(directory)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except PermissionError as error:
        raise read_denial(error) from error
    except UnicodeDecodeError as error:
        raise UnreadableInputError(f"{path}: not UTF-8 ({error})") from error
    try:
        document = json.loads(text)
        entries = [ManifestEntry(**item) for item in document["files"]]
        pending = frozenset(str(name) for name in document.get("pending", ()))
    except (ValueError, TypeError, KeyError) as error:
        raise UnreadableInputError(
            f"{path}: not an evidence manifest ({type(error).__name__}: {error}); "
            f"expected a JSON object whose 'files' lists sealed files"
        ) from error
    return Manifest({entry.name: entry for entry in entries}, pending)


def render_manifest(
    entries: Iterable[ManifestEntry], pending: Iterable[str], now: datetime
) -> str:
    """The manifest's text: sorted keys, indent 2, a trailing newline, files
    in sealing order."""
    ordered = sorted(entries, key=_order)
    document = {
        "files": [asdict(entry) for entry in ordered],
        "generator": GENERATOR,
        "pending": sorted(pending),
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "updated_at": format_timestamp(now),
    }
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_manifest(
    directory: Path,
    entries: Iterable[ManifestEntry],
    now: datetime,
    *,
    pending: Iterable[str] = (),
) -> None:
    """Replace the manifest atomically. When that fails (a full disk) the
    old manifest stays, the temporary file is removed, and the OSError
    raised names the file it was about."""
    target = manifest_path(directory)
    temporary = directory / f".{MANIFEST_NAME}.tmp"
    data = render_manifest(entries, pending, now).encode("utf-8")
    try:
        _write_synced(temporary, data)
        os.replace(temporary, target)
    except BaseException:
        _remove_quietly(temporary)
        raise
    fsync_directory(directory)


def _write_synced(path: Path, data: bytes) -> None:
    fd = open_private(path, os.O_WRONLY | os.O_TRUNC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as error:
        raise OSError(error.errno, error.strerror, str(path)) from error
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):  # the next write truncates it anyway
        path.unlink(missing_ok=True)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _order(entry: ManifestEntry) -> tuple[object, ...]:
    parsed = parse_sealed_name(entry.name)
    if parsed is None:
        return (1, entry.name)
    return (0, parsed.day, parsed.sequence, parsed.stream)
