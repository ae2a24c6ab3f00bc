"""Appending evidence from many processes at once.

Each event is one line written by one ``os.write`` on an ``O_APPEND``
descriptor while the directory's append lock is held, so lines from
different writers never interleave and a rotation's rename never lands
mid-append. A file whose last byte is not a newline (a crash tore its last
record) gets a newline first, so a good record is never glued onto a torn
one. A failed or short write is cut back to the size before it: the event
is dropped and counted, never half-written, and never raised to the caller.

Appends are not fsynced: a crashed process loses nothing that reached the
page cache, and a lost host loses at most its last few seconds of evidence.
Sealing fsyncs every file before it enters the manifest.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final

from exporter.config.model import Rotation
from exporter.contract import STREAMS
from exporter.errors import WatchdogError
from exporter.evidence.events import build_event, encode_event
from exporter.evidence.layout import LOCK_NAME, active_path
from exporter.evidence.locking import DirectoryLock
from exporter.evidence.private import ensure_directory, open_private
from exporter.evidence.rotation import rotate

logger = logging.getLogger(__name__)

# A failed early rotation is retried no sooner than this, so a permission
# problem costs one attempt a minute instead of one per append.
_ROTATION_RETRY_SECONDS: Final = 60.0


@dataclass
class _OpenFile:
    fd: int
    device: int
    inode: int


def _utc_now() -> datetime:
    return datetime.now(UTC)


class EvidenceWriter:
    """Appends events to ``<stream>.jsonl`` files in one directory.

    ``write_errors`` counts dropped events per stream (the exporter's
    ``spark_runner_evidence_write_errors_total{stream}``); ``on_drop`` is
    called with the stream of each dropped event.

    When an append takes a file to ``rotation.max_file_bytes`` the writer
    seals it at once (see ``rotate``), and that append also pays for
    measuring the sealed file (about a second for 50 MB, once per file).
    With ``seal_when_full=False`` it only sets ``limit_reached``, for a
    caller that rotates on a thread of its own.

    Threads may share a writer. After a fork the child reopens its own
    descriptors before its first append.
    """

    def __init__(
        self,
        directory: Path,
        rotation: Rotation,
        *,
        host: str,
        environment: str,
        on_drop: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = _utc_now,
        seal_when_full: bool = True,
    ) -> None:
        self.directory = directory
        self.rotation = rotation
        self.host = host
        self.environment = environment
        self.write_errors: dict[str, int] = dict.fromkeys(STREAMS, 0)
        self.limit_reached = False
        self._on_drop = on_drop
        self._clock = clock
        self._seal_when_full = seal_when_full
        self._lock = DirectoryLock(directory / LOCK_NAME)
        self._threads = threading.Lock()
        self._files: dict[str, _OpenFile] = {}
        self._paths = {stream: active_path(directory, stream) for stream in STREAMS}
        self._pid = os.getpid()
        self._dropped_in_episode = 0
        self._rotation_retry_at = 0.0

    def append(
        self,
        stream: str,
        kind: str,
        command_type: str,
        fields: Mapping[str, object],
    ) -> bool:
        """Write one event; True when written, False when dropped."""
        if stream not in STREAMS:
            raise ValueError(f"unknown evidence stream {stream!r}; one of {STREAMS}")
        event = build_event(
            moment=self._clock(),
            host=self.host,
            environment=self.environment,
            command_type=command_type,
            kind=kind,
            fields=fields,
        )
        line = encode_event(event)
        with self._threads:  # threads share the flock's open file: exclude them
            try:
                size = self._write(stream, line)
            except OSError as error:
                self._count_drop(stream, error)
                return False
            self._end_drop_episode()
        if size >= self.rotation.max_file_bytes:
            self.limit_reached = True
            if self._seal_when_full:
                self._rotate_early()
        return True

    def close(self) -> None:
        for open_file in self._files.values():
            os.close(open_file.fd)
        self._files.clear()
        self._lock.close()

    def __enter__(self) -> EvidenceWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, stream: str, line: bytes) -> int:
        """Append under the directory's lock; the file's size afterwards."""
        self._forget_inherited()
        self._acquire()
        try:
            fd = self._current_fd(stream)
            return _append_line(fd, line)
        finally:
            self._lock.release()

    def _acquire(self) -> None:
        try:
            self._lock.acquire()
        except FileNotFoundError:
            ensure_directory(self.directory)
            self._lock.acquire()

    def _current_fd(self, stream: str) -> int:
        """The descriptor of the stream's file as it is now at its path,
        reopened when a rotation has renamed the one held."""
        path = self._paths[stream]
        held = self._files.get(stream)
        try:
            status = os.stat(path)
        except FileNotFoundError:
            status = None
        current = None if status is None else (status.st_dev, status.st_ino)
        if held is not None and current == (held.device, held.inode):
            return held.fd
        if held is not None:
            os.close(held.fd)
            del self._files[stream]
        fd = open_private(path, os.O_RDWR | os.O_APPEND)
        opened = os.fstat(fd)
        self._files[stream] = _OpenFile(fd, opened.st_dev, opened.st_ino)
        return fd

    def _forget_inherited(self) -> None:
        """After a fork, drop the parent's descriptors: sharing the lock's
        open file would let both processes hold it at once."""
        if os.getpid() == self._pid:
            return
        self.close()
        self._pid = os.getpid()

    def _count_drop(self, stream: str, error: OSError) -> None:
        self.write_errors[stream] = self.write_errors.get(stream, 0) + 1
        if self._dropped_in_episode == 0:
            logger.warning(
                "evidence write failed, dropping events until writes succeed "
                "stream=%s directory=%s error=%s",
                stream,
                self.directory,
                error,
            )
        self._dropped_in_episode += 1
        if self._on_drop is not None:
            self._on_drop(stream)

    def _end_drop_episode(self) -> None:
        if self._dropped_in_episode:
            logger.info("evidence writes resumed dropped=%d", self._dropped_in_episode)
            self._dropped_in_episode = 0

    def _rotate_early(self) -> None:
        """Seal files past the size limit now, unless another process is
        rotating already (it will seal them, or the next append retries)."""
        if time.monotonic() < self._rotation_retry_at:
            return
        try:
            rotate(self.directory, self.rotation, self._clock(), wait=False)
        except (OSError, WatchdogError) as error:
            self._rotation_retry_at = time.monotonic() + _ROTATION_RETRY_SECONDS
            logger.warning("evidence early rotation failed error=%s", error)


def _append_line(fd: int, line: bytes) -> int:
    """Write one line at the end of the file, on a fresh line; cut the file
    back and raise when the write fails or falls short."""
    size = os.fstat(fd).st_size
    data = line
    if size and os.pread(fd, 1, size - 1) != b"\n":
        data = b"\n" + line
    try:
        written = os.write(fd, data)
    except OSError:
        _cut_back(fd, size)
        raise
    if written != len(data):
        _cut_back(fd, size)
        raise OSError(f"short write: {written} of {len(data)} bytes")
    return size + written


def _cut_back(fd: int, size: int) -> None:
    try:
        os.ftruncate(fd, size)
    except OSError as error:
        # The next append starts on a fresh line, so readers count the
        # leftover as one torn line.
        logger.warning("evidence cut back failed error=%s", error)
