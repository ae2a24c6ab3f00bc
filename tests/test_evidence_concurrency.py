"""Several processes append while rotations seal files under them."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from exporter.contract import EXECUTION_STREAM
from exporter.evidence import EvidenceTail, read_events, sealed_files, verify

WRITERS = 4
EVENTS_PER_WRITER = 10_000

# Each writer process appends numbered events; a tiny size limit makes the
# writers themselves seal files about every 300 events.
WRITER_SCRIPT = """
import sys
from pathlib import Path
from exporter.config.model import Rotation
from exporter.evidence import EvidenceWriter

directory, writer, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rotation = Rotation(max_file_bytes=64 * 1024, max_total_bytes=1 << 40,
                    retention_days=14)
with EvidenceWriter(directory, rotation, host="h", environment="ci") as evidence:
    for n in range(count):
        if not evidence.append("executions", "number", "test",
                               {"writer": writer, "n": n}):
            sys.exit(f"dropped writer={writer} n={n}")
"""


def _start_writers(directory: Path) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", WRITER_SCRIPT, str(directory), str(writer), str(n)]
        )
        for writer, n in enumerate([EVENTS_PER_WRITER] * WRITERS)
    ]


def _numbers(records: list[dict[str, object]]) -> Counter[tuple[object, object]]:
    return Counter((record["writer"], record["n"]) for record in records)


def _in_order_per_writer(records: list[dict[str, object]]) -> bool:
    last: dict[object, int] = {}
    for record in records:
        n = record["n"]
        assert isinstance(n, int)
        if n <= last.get(record["writer"], -1):
            return False
        last[record["writer"]] = n
    return True


@pytest.mark.slow
def test_four_writers_with_forced_rotations_lose_and_tear_nothing(tmp_path):
    directory = tmp_path / "evidence"
    directory.mkdir(mode=0o700)
    tail = EvidenceTail(directory, EXECUTION_STREAM, from_start=True)
    followed: list[dict[str, object]] = []
    writers = _start_writers(directory)
    try:
        while any(writer.poll() is None for writer in writers):
            followed.extend(tail.poll())
            time.sleep(0.01)  # pacing only: leaves the CPUs to the writers
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
            writer.wait()
    followed.extend(tail.poll())
    tail.close()
    assert [writer.returncode for writer in writers] == [0] * WRITERS

    sealed = sealed_files(directory, EXECUTION_STREAM)
    assert len(sealed) > 10
    on_disk: list[dict[str, object]] = []
    for path in [directory / name.name for name in sealed] + [
        directory / "executions.jsonl"
    ]:
        records, torn = read_events(path)
        assert torn == 0, path.name
        on_disk.extend(records)

    expected = Counter(
        (writer, n) for writer in range(WRITERS) for n in range(EVENTS_PER_WRITER)
    )
    assert _numbers(on_disk) == expected
    assert _numbers(followed) == expected
    assert _in_order_per_writer(on_disk)
    assert _in_order_per_writer(followed)
    assert tail.torn == 0
    report = verify(directory)
    assert report.problems == ()
    assert report.checked == len(sealed)
