"""``evidence status``, ``evidence verify`` and ``report daily`` run by a
user who cannot read the evidence: one line naming the file, the permission
missing, its mode and owner and the uid running; exit 2; no traceback. The
suite runs as root, so the commands run in a child that drops to nobody
after its imports (the interpreter may sit where nobody cannot read)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exporter.config import shipped_config_path
from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceWriter, rotate

NOBODY = 65534
DAY = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
SEALED = "executions.jsonl.20240301"
MANIFEST = "daily_report_manifest.json"
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=3650)
SHIPPED_SPEC = Path(__file__).resolve().parents[1] / "slo.yaml"
DIRECTORY_MODE = "drwx------ owned by uid 0"
FILE_MODE = "-rw------- owned by uid 0"

AS_NOBODY = """
import os, sys
import exporter.commands.evidence_cmd, exporter.commands.report_cmd
from exporter.cli import main
os.setgroups([]); os.setgid(65534); os.setuid(65534)
main(sys.argv[1:])
"""


@pytest.fixture
def shared_tmp(shared_tmp: Path) -> Path:
    """The shared directory, holding a spec and a config whose
    logging.evidence_dir is ``evidence`` in it."""
    config = shipped_config_path().read_text()
    assert "  evidence_dir: evidence/runner\n" in config
    config = config.replace("evidence/runner", str(shared_tmp / "evidence"))
    (shared_tmp / "runner.yaml").write_text(config)
    shutil.copyfile(SHIPPED_SPEC, shared_tmp / "slo.yaml")
    for name in ("runner.yaml", "slo.yaml"):
        (shared_tmp / name).chmod(0o644)
    return shared_tmp


@pytest.fixture
def evidence(shared_tmp: Path) -> Path:
    """A sealed day and the next day's active file, all nobody's."""
    directory = shared_tmp / "evidence"
    for moment in (DAY, DAY + timedelta(days=1)):
        with EvidenceWriter(
            directory, ROOMY, host="h", environment="ci", clock=lambda m=moment: m
        ) as writer:
            writer.append(
                EXECUTION_STREAM, "execution", "pytest", {"result": "success"}
            )
        if moment == DAY:
            rotate(directory, ROOMY, DAY + timedelta(days=1))
    for path in (directory, *directory.iterdir()):
        os.chown(path, NOBODY, NOBODY)
    return directory


COMMANDS = {
    "status": ["evidence", "status"],
    "verify": ["evidence", "verify"],
    "report": ["report", "daily", "--date", "2024-03-01", "--spec", "slo.yaml"],
}


def _as_nobody(
    base: Path, command: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """The command run as nobody in ``base``, where its config and spec are."""
    argv = [*COMMANDS[command], "--config", "runner.yaml", *extra]
    return subprocess.run(
        [sys.executable, "-c", AS_NOBODY, *argv],
        cwd=base,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )


def _refused_with(result: subprocess.CompletedProcess[str], line: str) -> None:
    assert "Traceback" not in result.stderr
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr.splitlines()[-1] == f"runner-watchdog: {line}"


@pytest.mark.parametrize("given_by", ["config", "dir"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_directory_of_roots_is_named_with_read_and_search(
    evidence, command, given_by
):
    os.chown(evidence, 0, 0)
    extra = ("--dir", str(evidence)) if given_by == "dir" else ()

    result = _as_nobody(evidence.parent, command, *extra)

    _refused_with(
        result,
        f"{evidence}: read and search permission needed; it is {DIRECTORY_MODE}, "
        "running as uid 65534",
    )


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_manifest_of_roots_is_named_with_read(evidence, command):
    os.chown(evidence / MANIFEST, 0, 0)

    result = _as_nobody(evidence.parent, command)

    _refused_with(
        result,
        f"{evidence / MANIFEST}: read permission needed; it is {FILE_MODE}, "
        "running as uid 65534",
    )


@pytest.mark.parametrize(
    ("name", "command"),
    [(SEALED, "verify"), (SEALED, "report"), ("executions.jsonl", "report")],
    ids=["sealed-verify", "sealed-report", "active-report"],
)
def test_an_evidence_file_of_roots_is_named_with_read(evidence, name, command):
    os.chown(evidence / name, 0, 0)  # as root leaves them, mode 0600

    result = _as_nobody(evidence.parent, command)

    _refused_with(
        result,
        f"{evidence / name}: read permission needed; it is {FILE_MODE}, "
        "running as uid 65534",
    )


@pytest.mark.parametrize(
    ("command", "first_line"),
    [
        ("status", "evidence directory {}"),
        ("verify", "ok: 1 sealed file(s) rehashed in {}"),
        ("report", "daily report 2024-03-01 (UTC): 2 evidence file(s) read, 0 torn"),
    ],
    ids=list(COMMANDS),
)
def test_readable_evidence_is_read_as_nobody(evidence, command, first_line):
    result = _as_nobody(evidence.parent, command)

    assert (result.returncode, "Traceback" in result.stderr) == (0, False)
    assert result.stdout.splitlines()[0].startswith(first_line.format(evidence))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_directory_behind_one_of_roots_names_that_one(shared_tmp, command):
    closed = shared_tmp / "closed"
    (closed / "evidence").mkdir(parents=True)
    closed.chmod(0o700)

    result = _as_nobody(shared_tmp, command, "--dir", str(closed / "evidence"))

    _refused_with(
        result,
        f"{closed}: search permission needed to reach {closed / 'evidence'}; "
        f"it is {DIRECTORY_MODE}, running as uid 65534",
    )
