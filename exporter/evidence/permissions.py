"""Checking permissions on the evidence directory and its files before use.

Rotation renames and deletes files and replaces the manifest. It checks
every permission it will need first, so a problem stops it with every file
as it was. Readers (``evidence verify`` and ``status``, the daily report,
the exporter's follower) check the directory and each file they read. The
error names the file, the permission, the file's mode and owner and the uid
running, e.g. ``ev/executions.jsonl: read permission needed; it is
-rw------- owned by uid 0, running as uid 65534``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from exporter.errors import UnreadableInputError

_UNCHANGED: Final = "nothing was changed"


class EvidencePermissionError(UnreadableInputError):
    """The evidence directory or one of its files lacks a permission."""


def require_directory_access(directory: Path) -> None:
    """Renaming, deleting and creating files needs write and search."""
    _require(directory, os.W_OK | os.X_OK, "write and search", _UNCHANGED)


def require_read_write(path: Path) -> None:
    _require(path, os.R_OK | os.W_OK, "read and write", _UNCHANGED)


def require_readable(path: Path, *, before_changes: bool = False) -> None:
    """Reading a file, or listing a directory (which also needs search).
    A path that is gone needs nothing: the caller finds it missing."""
    mode, permission = _reading(path)
    _require(path, mode, permission, _UNCHANGED if before_changes else "")


def require_usable_directory(directory: Path) -> None:
    """What the exporter needs of its directory: list, create and rename."""
    _require(directory, os.R_OK | os.W_OK | os.X_OK, "read, write and search", "")


def require_creatable(directory: Path) -> None:
    """Creating a missing directory needs write and search on the nearest
    directory above it that exists."""
    if os.path.lexists(directory):
        return
    for parent in directory.absolute().parents:
        if os.path.lexists(parent):
            note = f"needed to create {directory}"
            _require(parent, os.W_OK | os.X_OK, "write and search", note)
            return


def read_denial(error: PermissionError) -> EvidencePermissionError:
    """The error for a read refused at the moment of reading, worded as
    ``require_readable`` words it."""
    path = Path(error.filename)
    return denial(path, _reading(path)[1])


@contextmanager
def naming_read_denials() -> Iterator[None]:
    """Turn a PermissionError raised in the block into the error
    ``read_denial`` makes of it."""
    try:
        yield
    except PermissionError as error:
        if not error.filename:
            raise
        raise read_denial(error) from error


def denial(
    path: Path, permission: str | None, note: str = ""
) -> EvidencePermissionError:
    """The error for ``path`` lacking ``permission`` (e.g. "read"; None when
    not known). When the path cannot even be looked up, the directory in the
    way is named instead."""
    blocking = _blocking_ancestor(path)
    if blocking is None:
        needed = (
            f"{permission} permission needed" if permission else "permission denied"
        )
        message = f"{path}: {needed}; {_describe(path)}"
    else:
        message = (
            f"{blocking}: search permission needed to reach {path}; "
            f"{_describe(blocking)}"
        )
    return EvidencePermissionError(f"{message}; {note}" if note else message)


def _require(path: Path, mode: int, permission: str, note: str) -> None:
    if _allowed(path, mode) or _missing(path):
        return
    raise denial(path, permission, note)


def _reading(path: Path) -> tuple[int, str]:
    """The access mode and the permission's name for reading ``path``."""
    try:
        is_directory = stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        is_directory = False
    if is_directory:
        return os.R_OK | os.X_OK, "read and search"
    return os.R_OK, "read"


def _allowed(path: Path, mode: int) -> bool:
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def _missing(path: Path) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def _blocking_ancestor(path: Path) -> Path | None:
    """The outermost directory above ``path`` without search permission,
    when that is what keeps ``path`` from being looked up."""
    try:
        os.lstat(path)
    except PermissionError:
        parents = reversed(path.absolute().parents)
        return next((p for p in parents if not _allowed(p, os.X_OK)), None)
    except OSError:
        return None
    return None


def _describe(path: Path) -> str:
    try:
        status = path.stat()
    except OSError as error:
        return f"cannot stat it ({error.strerror})"
    return (
        f"it is {stat.filemode(status.st_mode)} owned by uid {status.st_uid}, "
        f"running as uid {os.geteuid()}"
    )
