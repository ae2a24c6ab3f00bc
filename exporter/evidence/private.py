"""Owner-only files and directories, whatever the umask says."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600


def ensure_directory(directory: Path) -> None:
    """Create the evidence directory owner-only when it is missing. An
    existing directory keeps its mode: an operator may have opened it to a
    group on purpose, and its files stay owner-only anyway."""
    if directory.is_dir():
        return
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        directory.mkdir(mode=DIRECTORY_MODE)
    except FileExistsError:
        return  # another writer made it first
    os.chmod(directory, DIRECTORY_MODE)


def open_private(path: Path, flags: int) -> int:
    """Open (creating when missing) a file that only its owner may read."""
    fd = os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        _restrict(fd)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _restrict(fd: int) -> None:
    status = os.fstat(fd)
    if status.st_mode & 0o777 != FILE_MODE and status.st_uid == os.geteuid():
        os.fchmod(fd, FILE_MODE)
