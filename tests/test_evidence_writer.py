"""Appending evidence: permissions, torn tails, a filesystem that fills up."""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tmpfs_support import tiny_tmpfs

from exporter.config.model import Rotation
from exporter.contract import AUDIT_STREAM, EXECUTION_STREAM, STALL_STREAM
from exporter.evidence import EvidenceWriter, read_events
from exporter.evidence.layout import LOCK_NAME

ROOMY = Rotation(max_file_bytes=1 << 30, max_total_bytes=1 << 40, retention_days=14)


def _writer(directory: Path, **options: object) -> EvidenceWriter:
    return EvidenceWriter(directory, ROOMY, host="h1", environment="ci", **options)


def test_directory_and_files_are_owner_only_whatever_the_umask(tmp_path):
    directory = tmp_path / "evidence" / "runner"
    previous = os.umask(0)
    try:
        with _writer(directory) as writer:
            assert writer.append(AUDIT_STREAM, "decision", "make", {"argv": ["make"]})
    finally:
        os.umask(previous)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in ("audit.jsonl", LOCK_NAME):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600


def test_existing_file_with_wide_mode_is_narrowed(tmp_path):
    tmp_path.chmod(0o700)
    (tmp_path / "audit.jsonl").write_bytes(b"")
    (tmp_path / "audit.jsonl").chmod(0o644)
    with _writer(tmp_path) as writer:
        writer.append(AUDIT_STREAM, "decision", "make", {})
    assert stat.S_IMODE((tmp_path / "audit.jsonl").stat().st_mode) == 0o600


def test_appended_event_reads_back_with_its_envelope(tmp_path):
    with _writer(tmp_path) as writer:
        writer.append(EXECUTION_STREAM, "execution", "pytest", {"result": "success"})
    records, torn = read_events(tmp_path / "executions.jsonl")
    assert torn == 0
    [record] = records
    assert record["kind"] == "execution"
    assert record["command_type"] == "pytest"
    assert record["host"] == "h1"
    assert record["environment"] == "ci"
    assert record["result"] == "success"


def test_unknown_stream_is_a_programming_error(tmp_path):
    with _writer(tmp_path) as writer, pytest.raises(ValueError, match="stream"):
        writer.append("executionz", "execution", "pytest", {})


GOOD = b'{"kind":"execution","n":1,"timestamp":"2024-03-01T00:00:00.000000Z"}\n'


@pytest.mark.parametrize(
    "torn_tail",
    [
        b'{"kind":"execution","n":2,"times',
        '{"kind":"stall","note":"caf\u00e9'.encode()[:-1],
    ],
    ids=["cut-mid-object", "cut-mid-multibyte-character"],
)
def test_torn_tail_reads_as_one_torn_line_and_next_append_starts_fresh(
    tmp_path, torn_tail
):
    path = tmp_path / "executions.jsonl"
    path.write_bytes(GOOD + torn_tail)

    records, torn = read_events(path)
    assert [record["n"] for record in records] == [1]
    assert torn == 1

    with _writer(tmp_path) as writer:
        assert writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": 3})
    records, torn = read_events(path)
    assert [record["n"] for record in records] == [1, 3]
    assert torn == 1
    assert path.read_bytes().startswith(GOOD + torn_tail + b"\n{")


def test_writer_reopens_after_its_file_is_renamed(tmp_path):
    with _writer(tmp_path) as writer:
        writer.append(STALL_STREAM, "stall", "pytest", {"n": 1})
        (tmp_path / "stall-events.jsonl").rename(tmp_path / "elsewhere")
        writer.append(STALL_STREAM, "stall", "pytest", {"n": 2})
    assert [r["n"] for r in read_events(tmp_path / "elsewhere")[0]] == [1]
    assert [r["n"] for r in read_events(tmp_path / "stall-events.jsonl")[0]] == [2]


def test_forked_child_writes_with_its_own_lock(tmp_path):
    with _writer(tmp_path) as writer:
        writer.append(AUDIT_STREAM, "decision", "make", {"who": "parent"})
        pid = os.fork()
        if pid == 0:  # child: append and leave without running pytest's exit
            code = 0 if writer.append(AUDIT_STREAM, "decision", "make", {}) else 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        writer.append(AUDIT_STREAM, "decision", "make", {"who": "parent"})
    records, torn = read_events(tmp_path / "audit.jsonl")
    assert (len(records), torn) == (3, 0)


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs mounted for the test."""
    with tiny_tmpfs(tmp_path / "tiny") as mount_point:
        yield mount_point


def test_full_filesystem_drops_and_counts_then_resumes(tiny_filesystem, caplog):
    filler = tiny_filesystem / "filler"
    filler.write_bytes(b"x" * 24 * 1024)
    directory = tiny_filesystem / "evidence"
    dropped_streams: list[str] = []
    caplog.set_level(logging.INFO, logger="exporter.evidence.writer")

    with _writer(directory, on_drop=dropped_streams.append) as writer:
        padding = "p" * 300
        written = [
            writer.append(STALL_STREAM, "stall", "pytest", {"n": n, "pad": padding})
            for n in range(400)
        ]
        drops = written.count(False)
        assert drops > 0
        assert writer.write_errors[STALL_STREAM] == drops
        assert dropped_streams == [STALL_STREAM] * drops

        records, torn = read_events(directory / "stall-events.jsonl")
        assert torn == 0
        kept = [n for n, ok in enumerate(written) if ok]
        assert [record["n"] for record in records] == kept

        filler.unlink()
        assert writer.append(STALL_STREAM, "stall", "pytest", {"n": 400})

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "dropping events" in warnings[0].getMessage()
    assert any(f"resumed dropped={drops}" in r.getMessage() for r in caplog.records)
    records, torn = read_events(directory / "stall-events.jsonl")
    assert (records[-1]["n"], torn) == (400, 0)


@pytest.mark.parametrize(
    ("seal_when_full", "active_lines"),
    [(True, 0), (False, 2)],
    ids=["seals-at-once", "leaves-sealing-to-the-caller"],
)
def test_reaching_the_size_limit(tmp_path, seal_when_full, active_lines):
    small = Rotation(max_file_bytes=100, max_total_bytes=1 << 40, retention_days=14)
    with EvidenceWriter(
        tmp_path, small, host="h", environment="ci", seal_when_full=seal_when_full
    ) as writer:
        writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": 1})
        assert writer.limit_reached
        writer.append(EXECUTION_STREAM, "execution", "pytest", {"n": 2})
    active = tmp_path / "executions.jsonl"
    assert (len(read_events(active)[0]) if active.exists() else 0) == active_lines
    assert (tmp_path / "daily_report_manifest.json").exists() == seal_when_full


def test_threads_sharing_a_writer_lose_nothing(tmp_path):
    small = Rotation(max_file_bytes=4096, max_total_bytes=1 << 40, retention_days=14)
    with EvidenceWriter(tmp_path, small, host="h", environment="ci") as writer:

        def append_many(thread: int) -> None:
            for n in range(500):
                assert writer.append(
                    AUDIT_STREAM, "decision", "make", {"t": thread, "n": n}
                )

        threads = [threading.Thread(target=append_many, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    records: list[dict[str, object]] = []
    for path in sorted(tmp_path.glob("audit.jsonl*")):
        found, torn = read_events(path)
        assert torn == 0
        records.extend(found)
    assert sorted((r["t"], r["n"]) for r in records) == [
        (t, n) for t in range(4) for n in range(500)
    ]
