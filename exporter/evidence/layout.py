"""The names of the files in an evidence directory.

``<stream>.jsonl`` is the active file writers append to. Sealing renames it
to ``<stream>.jsonl.YYYYMMDD`` (the UTC date of its first record) or, when
that name is taken because the stream sealed early that day, to
``<stream>.jsonl.YYYYMMDD.NNNN`` with the next free sequence number. Names
of one stream therefore sort in the order they were sealed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

ACTIVE_SUFFIX: Final = ".jsonl"
LOCK_NAME: Final = ".evidence.lock"  # held by every append and every seal
MAINTENANCE_LOCK_NAME: Final = ".maintenance.lock"  # one rotation at a time
MANIFEST_NAME: Final = "daily_report_manifest.json"

_STREAM_PATTERN: Final = r"[a-z][a-z0-9_-]*"
_ACTIVE_NAME = re.compile(rf"^(?P<stream>{_STREAM_PATTERN})\.jsonl$")
_SEALED_NAME = re.compile(
    rf"^(?P<stream>{_STREAM_PATTERN})\.jsonl\.(?P<day>\d{{8}})(?:\.(?P<seq>\d{{4,}}))?$"
)
# Four digits keep names in lexical order up to 9,999 early seals a day
# (half a terabyte at 50 MB a file); beyond that only sort_key orders them.
_SEQUENCE_DIGITS: Final = 4


@dataclass(frozen=True, order=True)
class SealedName:
    """A sealed file's name, split. Orders by day, then sequence (the plain
    dated name is sequence 0), then stream."""

    day: date
    sequence: int
    stream: str

    @property
    def name(self) -> str:
        base = f"{self.stream}{ACTIVE_SUFFIX}.{self.day:%Y%m%d}"
        if self.sequence == 0:
            return base
        return f"{base}.{self.sequence:0{_SEQUENCE_DIGITS}d}"


def active_path(directory: Path, stream: str) -> Path:
    return directory / f"{stream}{ACTIVE_SUFFIX}"


def is_stream_name(stream: str) -> bool:
    return re.fullmatch(_STREAM_PATTERN, stream) is not None


def parse_sealed_name(name: str) -> SealedName | None:
    """The parts of a sealed file's name, or None for any other name."""
    match = _SEALED_NAME.match(name)
    if match is None:
        return None
    digits = match["day"]
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return SealedName(day, int(match["seq"] or 0), match["stream"])


def active_streams(directory: Path) -> list[str]:
    """Streams that have an active file in the directory, sorted."""
    names = (_ACTIVE_NAME.match(entry.name) for entry in _entries(directory))
    return sorted(match["stream"] for match in names if match)


def sealed_files(directory: Path, stream: str | None = None) -> list[SealedName]:
    """Sealed files in the directory (of one stream, or all), oldest first."""
    parsed = (parse_sealed_name(entry.name) for entry in _entries(directory))
    return sorted(
        name
        for name in parsed
        if name is not None and (stream is None or name.stream == stream)
    )


def next_sealed_name(stream: str, day: date, taken: set[str]) -> SealedName:
    """The first free name for sealing a stream's file dated ``day``."""
    sequence = 0
    while True:
        candidate = SealedName(day, sequence, stream)
        if candidate.name not in taken:
            return candidate
        sequence += 1


def _entries(directory: Path) -> list[Path]:
    try:
        return [path for path in directory.iterdir() if path.is_file()]
    except FileNotFoundError:
        return []
