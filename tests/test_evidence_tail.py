"""Following a stream across rotations: whole records, each exactly once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceTail, EvidenceWriter, rotate

SEAL_EVERY_APPEND = Rotation(
    max_file_bytes=1, max_total_bytes=1 << 40, retention_days=14
)
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=14)
NOBODY = 65534


def _append(writer: EvidenceWriter, *numbers: int) -> None:
    for n in numbers:
        assert writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": n})


def _numbers(records: list[dict[str, object]]) -> list[object]:
    return [record["n"] for record in records]


def test_tail_starts_at_the_end_and_returns_only_new_records(tmp_path):
    with EvidenceWriter(tmp_path, ROOMY, host="h", environment="ci") as writer:
        _append(writer, 1, 2)
        tail = EvidenceTail(tmp_path, EXECUTION_STREAM)
        assert tail.poll() == []
        _append(writer, 3)
        assert _numbers(tail.poll()) == [3]
        assert tail.poll() == []
    tail.close()


def test_partial_line_waits_for_its_newline(tmp_path):
    path = tmp_path / "executions.jsonl"
    path.write_bytes(b'{"n":1}\n{"n":')
    tail = EvidenceTail(tmp_path, EXECUTION_STREAM, from_start=True)
    assert _numbers(tail.poll()) == [1]
    with path.open("ab") as stream:
        stream.write(b"2}\n")
    assert _numbers(tail.poll()) == [2]
    assert tail.torn == 0
    tail.close()


def test_line_in_progress_at_start_is_not_a_new_record(tmp_path):
    path = tmp_path / "executions.jsonl"
    path.write_bytes(b'{"n":1}\n{"n":')
    tail = EvidenceTail(tmp_path, EXECUTION_STREAM)
    with path.open("ab") as stream:
        stream.write(b'2}\n{"n":3}\n')
    assert (_numbers(tail.poll()), tail.torn) == ([3], 0)
    tail.close()


def test_several_rotations_between_polls_lose_nothing(tmp_path):
    with EvidenceWriter(
        tmp_path, SEAL_EVERY_APPEND, host="h", environment="ci"
    ) as writer:
        tail = EvidenceTail(tmp_path, EXECUTION_STREAM)
        _append(writer, 1, 2, 3, 4)  # each append seals its file
        assert _numbers(tail.poll()) == [1, 2, 3, 4]
        _append(writer, 5)
        assert _numbers(tail.poll()) == [5]
    tail.close()


def test_records_appended_to_the_old_file_before_its_rename_are_read(tmp_path):
    with EvidenceWriter(tmp_path, ROOMY, host="h", environment="ci") as writer:
        tail = EvidenceTail(tmp_path, EXECUTION_STREAM)
        _append(writer, 1)
        assert _numbers(tail.poll()) == [1]
        _append(writer, 2)
        rotate(tmp_path, Rotation(1, 1 << 40, 14))
        _append(writer, 3)
        assert _numbers(tail.poll()) == [2, 3]
    tail.close()


def test_torn_tail_of_a_sealed_file_is_counted_once(tmp_path):
    path = tmp_path / "executions.jsonl"
    path.write_bytes(b'{"n":1}\n{"n":2,"cut')
    tail = EvidenceTail(tmp_path, EXECUTION_STREAM, from_start=True)
    assert _numbers(tail.poll()) == [1]
    os.rename(path, tmp_path / "executions.jsonl.20240301")
    Path(path).write_bytes(b'{"n":3}\n')
    assert _numbers(tail.poll()) == [3]
    assert tail.torn == 1
    tail.close()


def test_tail_waits_for_a_stream_that_does_not_exist_yet(tmp_path):
    tail = EvidenceTail(tmp_path, EXECUTION_STREAM)
    assert tail.poll() == []
    with EvidenceWriter(tmp_path, ROOMY, host="h", environment="ci") as writer:
        _append(writer, 1)
    assert _numbers(tail.poll()) == [1]
    tail.close()


# The scenarios below need a file its reader is denied, which root never
# is: each runs in a child that drops to nobody after its imports and
# prints what every poll returned (or the error it raised).
AS_NOBODY = """
import json, os, sys
from pathlib import Path
from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceTail, EvidenceWriter, rotate
os.setgroups([]); os.setgid(65534); os.setuid(65534)
directory = Path(sys.argv[1])
active = directory / "executions.jsonl"
writer = EvidenceWriter(directory, Rotation(1 << 30, 1 << 40, 14), host="h",
                        environment="ci")
polls = []

def append(n):
    assert writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": n})

def poll(tail):
    try:
        polls.append([record["n"] for record in tail.poll()])
    except OSError as error:
        polls.append(type(error).__name__)

%s
print(json.dumps(polls))
"""

DENIED_AFTER_A_ROTATION = """
tail = EvidenceTail(directory, EXECUTION_STREAM)
append(1)
poll(tail)
append(2)
rotate(directory, Rotation(1, 1 << 40, 14))
append(3)
active.chmod(0)
poll(tail)
poll(tail)
active.chmod(0o600)
poll(tail)
poll(tail)
"""

DENIED_FROM_THE_START = """
append(1)
directory.chmod(0)
tail = EvidenceTail(directory, EXECUTION_STREAM)
poll(tail)
directory.chmod(0o700)
poll(tail)
append(2)
poll(tail)
"""


@pytest.mark.parametrize(
    ("scenario", "polls"),
    [
        (
            DENIED_AFTER_A_ROTATION,
            [[1], "PermissionError", "PermissionError", [2, 3], []],
        ),
        (DENIED_FROM_THE_START, ["PermissionError", [], [2]]),
    ],
    ids=["denied-after-a-rotation", "denied-from-the-start"],
)
def test_a_denied_file_raises_and_the_next_poll_resumes(scenario, polls):
    base = Path(tempfile.mkdtemp(prefix="evidence-tail-"))
    try:
        base.chmod(0o755)
        directory = base / "evidence"
        directory.mkdir(mode=0o700)
        os.chown(directory, NOBODY, NOBODY)
        result = subprocess.run(
            [sys.executable, "-c", AS_NOBODY % scenario, str(directory)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            check=False,
        )
    finally:
        shutil.rmtree(base)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == polls
