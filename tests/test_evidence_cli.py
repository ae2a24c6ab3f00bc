"""``runner-watchdog evidence rotate|verify|status`` on real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.config import shipped_config_path
from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceWriter

YESTERDAY = datetime.now(UTC) - timedelta(days=1)
SEALED = f"executions.jsonl.{YESTERDAY:%Y%m%d}"
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=14)


def _invoke(*args: str) -> tuple[int, str]:
    config = ["--config", str(shipped_config_path())]
    result = CliRunner().invoke(main, ["evidence", args[0], *config, *args[1:]])
    return result.exit_code, result.stdout


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    """Yesterday's executions, not yet sealed."""
    directory = tmp_path / "evidence"
    with EvidenceWriter(
        directory, ROOMY, host="h", environment="ci", clock=lambda: YESTERDAY
    ) as writer:
        for n in range(3):
            writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": n})
    return directory


def test_rotate_then_verify_then_status(evidence):
    assert _invoke("rotate", "--dir", str(evidence)) == (0, f"sealed {SEALED}\n")
    assert _invoke("rotate", "--dir", str(evidence)) == (
        0,
        f"nothing to rotate in {evidence}\n",
    )
    assert _invoke("verify", "--dir", str(evidence)) == (
        0,
        f"ok: 1 sealed file(s) rehashed in {evidence}\n",
    )
    code, output = _invoke("status", "--dir", str(evidence), "--format", "json")
    assert code == 0
    document = json.loads(output)
    [executions] = [s for s in document["streams"] if s["stream"] == "executions"]
    assert (executions["sealed_files"], executions["oldest"]) == (1, SEALED)
    assert [limit["name"] for limit in document["limits"]] == [
        "largest active file",
        "total",
        "oldest evidence",
    ]


def test_verify_fails_naming_the_altered_file(evidence):
    _invoke("rotate", "--dir", str(evidence))
    path = evidence / SEALED
    data = bytearray(path.read_bytes())
    data[data.index(b'"n":2') + 4] ^= 0x01  # 2 becomes 3
    path.write_bytes(bytes(data))

    code, output = _invoke("verify", "--dir", str(evidence))
    assert code == 1
    assert output.startswith(f"altered {SEALED}: sha256 ")
    assert output.endswith(f"1 problem(s): 1 sealed file(s) rehashed in {evidence}\n")

    code, output = _invoke("verify", "--dir", str(evidence), "--format", "json")
    assert code == 1
    document = json.loads(output)
    assert document["ok"] is False
    assert [(p["kind"], p["name"]) for p in document["problems"]] == [
        ("altered", SEALED)
    ]


# Runs the real command line in a process that drops to nobody after the
# imports (the interpreter may sit where nobody cannot read it).
AS_NOBODY = """
import os, sys
import exporter.commands.evidence_cmd
from exporter.cli import main
os.setgroups([]); os.setgid(65534); os.setuid(65534)
main(sys.argv[1:])
"""


def test_permission_error_is_one_line_and_a_nonzero_exit(shared_tmp):
    directory = shared_tmp / "evidence"
    with EvidenceWriter(
        directory, ROOMY, host="h", environment="ci", clock=lambda: YESTERDAY
    ) as writer:
        writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": 1})
    directory.chmod(0o755)
    before = sorted(os.listdir(directory))
    config = shared_tmp / "runner.yaml"  # the checkout may be closed to nobody
    shutil.copyfile(shipped_config_path(), config)
    config.chmod(0o644)

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            AS_NOBODY,
            "evidence",
            "rotate",
            "--dir",
            directory,
            "--config",
            config,
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    last_line = result.stderr.splitlines()[-1]
    assert last_line.startswith(f"runner-watchdog: {directory}: write and search")
    assert "Traceback" not in result.stderr
    assert sorted(os.listdir(directory)) == before
