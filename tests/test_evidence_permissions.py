"""Rotation run by a user who lacks a permission changes nothing and says
which file and which permission. The suite runs as root, so the rotation
runs in a child process that drops to ``nobody`` after its imports (the
interpreter may live where ``nobody`` cannot read, e.g. under /root)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from exporter.config.model import Rotation
from exporter.contract import AUDIT_STREAM, EXECUTION_STREAM
from exporter.evidence import EvidenceWriter, rotate

NOBODY = 65534
DAY = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=365)

ROTATE_SCRIPT = """
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from exporter.config.model import Rotation
from exporter.errors import WatchdogError
from exporter.evidence import rotate

os.setgroups([])
os.setgid(65534)
os.setuid(65534)
try:
    rotate(Path(sys.argv[1]), Rotation(1 << 30, 1 << 40, 365),
           datetime(2024, 3, 3, tzinfo=UTC))
except WatchdogError as error:
    print(error)
    sys.exit(error.exit_code)
"""


def _evidence(directory: Path) -> None:
    """A sealed day, yesterday's active files, and a manifest."""
    for moment in (DAY, DAY + timedelta(days=1)):
        with EvidenceWriter(
            directory, ROOMY, host="h", environment="ci", clock=lambda m=moment: m
        ) as writer:
            writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": 1})
            writer.append(AUDIT_STREAM, "decision", "make", {"n": 1})
        if moment == DAY:
            rotate(directory, ROOMY, DAY + timedelta(days=1))


def _snapshot(directory: Path) -> dict[str, tuple[int, int, str]]:
    return {
        path.name: (
            path.stat().st_mode,
            path.stat().st_uid,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in directory.iterdir()
    }


def _rotate_as_nobody(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ROTATE_SCRIPT, str(directory)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )


def _chown_tree(directory: Path, uid: int) -> None:
    os.chown(directory, uid, uid)
    for path in directory.iterdir():
        os.chown(path, uid, uid)


def test_unreadable_active_file_is_named_with_read_permission(shared_tmp):
    directory = shared_tmp / "evidence"
    _evidence(directory)
    _chown_tree(directory, NOBODY)
    os.chown(directory / "executions.jsonl", 0, 0)  # root's, mode 0600
    before = _snapshot(directory)

    result = _rotate_as_nobody(directory)

    assert result.returncode == 2, result.stderr
    assert result.stdout.startswith(
        f"{directory / 'executions.jsonl'}: read permission"
    )
    assert "running as uid 65534" in result.stdout
    assert _snapshot(directory) == before


def test_unwritable_directory_is_named_with_write_permission(shared_tmp):
    directory = shared_tmp / "evidence"
    _evidence(directory)
    _chown_tree(directory, NOBODY)
    os.chown(directory, 0, 0)
    directory.chmod(0o755)
    before = _snapshot(directory)

    result = _rotate_as_nobody(directory)

    assert result.returncode == 2, result.stderr
    assert result.stdout.startswith(f"{directory}: write and search permission")
    assert "nothing was changed" in result.stdout
    assert _snapshot(directory) == before
