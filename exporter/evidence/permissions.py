"""Checking permissions before rotation changes anything.

Rotation renames and deletes files and replaces the manifest. It checks
every permission it will need first, so a problem stops it with every file
as it was, and the error names the file and the permission.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exporter.errors import UnreadableInputError


class EvidencePermissionError(UnreadableInputError):
    """The evidence directory or one of its files lacks a permission."""


def require_directory_access(directory: Path) -> None:
    """Renaming, deleting and creating files needs write and search."""
    _require(directory, os.W_OK | os.X_OK, "write and search")


def require_readable(path: Path) -> None:
    _require(path, os.R_OK, "read")


def require_read_write(path: Path) -> None:
    _require(path, os.R_OK | os.W_OK, "read and write")


@contextmanager
def naming_denials() -> Iterator[None]:
    """Turn a PermissionError raised in the block into an
    EvidencePermissionError that names the file."""
    try:
        yield
    except PermissionError as error:
        raise EvidencePermissionError(
            f"{error.filename}: permission denied ({error.strerror})"
        ) from error


def _require(path: Path, mode: int, permission: str) -> None:
    if os.access(path, mode, effective_ids=os.access in os.supports_effective_ids):
        return
    raise EvidencePermissionError(
        f"{path}: {permission} permission needed; {_describe(path)}; "
        "nothing was changed"
    )


def _describe(path: Path) -> str:
    try:
        status = path.stat()
    except OSError as error:
        return f"cannot stat it ({error.strerror})"
    return (
        f"it is {stat.filemode(status.st_mode)} owned by uid {status.st_uid}, "
        f"running as uid {os.geteuid()}"
    )
