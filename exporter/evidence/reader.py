"""Reading evidence files: complete records, and torn lines counted apart.

A torn line is what a crash mid-write leaves: a last line without its
newline, or any line that is not one JSON object in valid UTF-8 (a torn
record that a later append closed with the newline it prefixes). Readers
skip torn lines and count them; they never fail on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Final

from exporter.evidence.events import TIMESTAMP_KEY, parse_timestamp

Record = dict[str, object]

_CHUNK_BYTES: Final = 1 << 20


_DECODER: Final = json.JSONDecoder()


def parse_line(line: bytes) -> Record | None:
    """The record on one line (without its newline), or None when torn:
    anything but exactly one JSON object in UTF-8, as writers write it."""
    try:
        text = line.decode("utf-8")
        value, end = _DECODER.raw_decode(text)
    except (UnicodeDecodeError, ValueError):
        return None
    if end != len(text) or not isinstance(value, dict):
        return None
    return value


def record_time(record: Record) -> datetime | None:
    """A record's timestamp, or None when it has no valid one."""
    text = record.get(TIMESTAMP_KEY)
    if not isinstance(text, str):
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        return None


class LineSplitter:
    """Turns chunks of bytes into complete lines, holding back a partial
    last line until its newline arrives."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        return lines

    def take_pending(self) -> bytes:
        """The partial line held back (torn, once its file is sealed)."""
        pending, self._pending = self._pending, b""
        return pending


class RecordReader:
    """Iterates over one file's records; ``torn`` counts the torn lines
    seen so far (complete once the iteration ends)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.torn = 0
        self.lines = 0

    def __iter__(self) -> Iterator[Record]:
        splitter = LineSplitter()
        with self.path.open("rb") as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                yield from self._records(splitter.feed(chunk))
        tail = splitter.take_pending()
        if tail:
            self.lines += 1
            self.torn += 1

    def _records(self, lines: list[bytes]) -> Iterator[Record]:
        for line in lines:
            if not line:
                continue  # no record, and no writer makes one: not counted
            self.lines += 1
            record = parse_line(line)
            if record is None:
                self.torn += 1
            else:
                yield record


def read_events(path: Path) -> tuple[list[Record], int]:
    """All records of one file, and how many torn lines it holds."""
    reader = RecordReader(path)
    records = list(reader)
    return records, reader.torn
