"""An ``OSError`` met while changing evidence, turned into one error that
names the file and what went wrong.

Rotation can meet a full disk or an I/O error after its permission checks.
It stops where it is: the manifest is only ever replaced whole, files are
listed as pending before they are renamed, and deletions follow the
manifest that no longer lists them, so no evidence is lost and the next
rotation finishes the work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exporter.errors import WatchdogError
from exporter.evidence.permissions import denial


class EvidenceStorageError(WatchdogError):
    """Evidence could not be written: a full disk, an I/O error."""

    exit_code = 2


@contextmanager
def naming_failures(directory: Path, outcome: str) -> Iterator[None]:
    """Turn an OSError raised in the block into an EvidencePermissionError
    or an EvidenceStorageError naming its file (else ``directory``) and
    ending with ``outcome``, e.g. "rotation stopped"."""
    try:
        yield
    except PermissionError as error:
        raise denial(_path_of(error, directory), None, outcome) from error
    except OSError as error:
        path = _path_of(error, directory)
        reason = error.strerror or str(error)
        raise EvidenceStorageError(f"{path}: {reason}; {outcome}") from error


def _path_of(error: OSError, directory: Path) -> Path:
    return Path(error.filename) if error.filename else directory
