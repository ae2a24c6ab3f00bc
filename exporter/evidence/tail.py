"""Following one stream as writers append and rotations seal.

``EvidenceTail.poll`` returns the records completed since the last poll:
never a partial line, and nothing lost or read twice across a rotation.
When the followed file is no longer the stream's active file, a rotation
has renamed it under the append lock, so no writer can add to it any more:
the tail reads it to its end, then reads any file sealed after it (several
rotations between two polls), then follows the new active file.

A file that cannot be read (a permission, an I/O error) makes ``poll``
raise its OSError, and the next poll carries on from where it stopped: the
records read before the error come first, and nothing is read twice. A tail
that cannot start at all (the directory or the active file cannot be read)
starts on the first poll that can, at the end of the active file then.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

from exporter.evidence.layout import active_path, sealed_files
from exporter.evidence.reader import LineSplitter, Record, RecordReader, parse_line

_CHUNK_BYTES: Final = 1 << 20

Identity = tuple[int, int]  # (device, inode)
_BEFORE_ANY: Final[Identity] = (-1, -1)  # no sealed file existed at the start


class EvidenceTail:
    """Reads new records of ``<stream>.jsonl``; ``torn`` counts torn lines.

    By default it starts at the end of the active file (records written
    from now on); with ``from_start`` it reads the active file from its
    first byte. Sealed files older than the starting point are not read.
    """

    def __init__(self, directory: Path, stream: str, *, from_start: bool = False):
        self.directory = directory
        self.stream = stream
        self.torn = 0
        self._path = active_path(directory, stream)
        self._fd: int | None = None
        self._identity: Identity | None = None
        self._previous = _BEFORE_ANY  # the last file read to its end
        self._splitter = LineSplitter()
        self._skip_first_line = False
        self._carried: list[Record] = []  # read before a poll's error
        self._started = False
        with contextlib.suppress(OSError):  # the first poll tries again
            self._start(from_start)

    def poll(self) -> list[Record]:
        """The records completed since the last poll; an OSError when a file
        cannot be read (the next poll resumes)."""
        if not self._started:
            self._start(from_start=False)
        records, self._carried = self._carried, []
        try:
            self._collect(records)
        except OSError:
            self._carried = records
            raise
        return records

    def _collect(self, records: list[Record]) -> None:
        while True:
            if self._fd is None and not self._follow_active(records):
                return
            self._read_held(records)
            if _identity_at(self._path) == self._identity:
                return
            self._read_held(records)  # renamed: this read reaches its true end
            self._close_held()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _start(self, from_start: bool) -> None:
        sealed = self._sealed_with_identities()
        try:
            fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = None
        self._previous = sealed[-1][1] if sealed else _BEFORE_ANY
        self._started = True
        if fd is None:
            return
        self._hold(fd)
        if from_start:
            return
        size = os.fstat(fd).st_size
        os.lseek(fd, size, os.SEEK_SET)
        # A line in progress began before us: it is not a new record.
        self._skip_first_line = size > 0 and os.pread(fd, 1, size - 1) != b"\n"

    def _follow_active(self, records: list[Record]) -> bool:
        """Read the files sealed since the last one read, then hold the
        active file; False when there is no active file yet."""
        try:
            fd: int | None = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = None
        try:
            identity = None if fd is None else _identity_of(fd)
            self._read_sealed_since_previous(records, stop_at=identity)
        except BaseException:
            if fd is not None:
                os.close(fd)
            raise
        if fd is None:
            return False
        self._hold(fd)
        return True

    def _hold(self, fd: int) -> None:
        self._fd = fd
        self._identity = _identity_of(fd)
        self._splitter = LineSplitter()

    def _read_held(self, records: list[Record]) -> None:
        assert self._fd is not None
        while chunk := os.read(self._fd, _CHUNK_BYTES):
            lines = self._splitter.feed(chunk)
            if self._skip_first_line and lines:
                self._skip_first_line = False
                lines = lines[1:]
            self._parse(lines, records)

    def _close_held(self) -> None:
        if self._splitter.take_pending():
            self.torn += 1
        self.close()
        if self._identity is not None:
            self._previous = self._identity
        self._identity = None

    def _read_sealed_since_previous(
        self, records: list[Record], stop_at: Identity | None
    ) -> None:
        """Read whole every sealed file after the previous one, up to the
        file about to be followed (if it has been sealed meanwhile)."""
        sealed = self._sealed_with_identities()
        identities = [identity for _, identity in sealed]
        if self._previous == _BEFORE_ANY:
            newer = sealed
        elif self._previous in identities:
            newer = sealed[identities.index(self._previous) + 1 :]
        else:
            return  # the previous file is gone: nothing to place us after
        for path, identity in newer:
            if identity == stop_at:
                return
            reader = RecordReader(path)
            records.extend(list(reader))  # whole, or not at all on an error
            self.torn += reader.torn
            self._previous = identity

    def _sealed_with_identities(self) -> list[tuple[Path, Identity]]:
        found = []
        for name in sealed_files(self.directory, self.stream):
            path = self.directory / name.name
            identity = _identity_at(path)
            if identity is not None:
                found.append((path, identity))
        return found

    def _parse(self, lines: list[bytes], records: list[Record]) -> None:
        for line in lines:
            if not line:
                continue
            record = parse_line(line)
            if record is None:
                self.torn += 1
            else:
                records.append(record)


def _identity_at(path: Path) -> Identity | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return (status.st_dev, status.st_ino)


def _identity_of(fd: int) -> Identity:
    status = os.fstat(fd)
    return (status.st_dev, status.st_ino)
