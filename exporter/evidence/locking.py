"""The evidence directory's two advisory locks (``flock`` on lock files).

The append lock is held by every append for one write, and by a rotation
only while it renames, so a rename never lands in the middle of an append.
The maintenance lock lets one rotation run at a time; appends never take it.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exporter.evidence.private import open_private


class DirectoryLock:
    """One lock file, opened once and locked and unlocked many times."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, *, wait: bool = True) -> bool:
        """Take the lock; without waiting, False when someone else has it."""
        if self._fd is None:
            self._fd = open_private(self.path, os.O_RDWR)
        operation = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(self._fd, operation)
        except BlockingIOError:
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file, which also releases the lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


@contextmanager
def holding(path: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the lock at ``path`` for the block; yields whether it was taken
    (always True when waiting). The lock file is closed afterwards."""
    lock = DirectoryLock(path)
    try:
        yield lock.acquire(wait=wait)
    finally:
        lock.close()
