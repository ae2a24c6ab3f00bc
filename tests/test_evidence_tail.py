"""Following a stream across rotations: whole records, each exactly once."""

from __future__ import annotations

import os
from pathlib import Path

from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceTail, EvidenceWriter, rotate

SEAL_EVERY_APPEND = Rotation(
    max_file_bytes=1, max_total_bytes=1 << 40, retention_days=14
)
ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=14)


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
