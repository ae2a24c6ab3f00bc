"""The raw /proc readers, on literal texts and on real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from exporter.procfs import (
    IoCounters,
    ProcessHandle,
    ProcessId,
    parse_children,
    parse_io,
    parse_schedstat,
    parse_stat,
    read_children,
    read_identity,
    read_stat,
    read_wchan,
)

_STAT_TAIL = (
    "S 100 42 42 0 -1 4194560 2418 51046 0 7 11 22 33 44 20 0 3 0 34585 "
    "5124096 952 18446744073709551615 1 1 0 0 0 0 65536 4 1132560123 1 0 0 17 0"
)


@pytest.mark.parametrize(
    "comm",
    ["bash", "tmux: server", "a) (b", "))((", "x y) S 1 2 3"],
    ids=["plain", "space", "parens", "only-parens", "fake-fields"],
)
def test_parse_stat_reads_after_the_last_paren(comm: str) -> None:
    stat = parse_stat(f"4242 ({comm}) {_STAT_TAIL}\n")

    assert stat.pid == 4242
    assert stat.comm == comm
    assert stat.state == "S"
    assert stat.ppid == 100
    assert (stat.utime, stat.stime, stat.cutime, stat.cstime) == (11, 22, 33, 44)
    assert stat.cpu_ticks == 110
    assert stat.num_threads == 3
    assert stat.identity == ProcessId(4242, 34585)


@pytest.mark.parametrize(
    ("state", "exited"),
    [("S", False), ("R", False), ("D", False), ("T", False), ("Z", True), ("X", True)],
)
def test_zombies_and_dead_tasks_count_as_exited(state: str, exited: bool) -> None:
    stat = parse_stat(f"7 (x) {state}{_STAT_TAIL[1:]}")
    assert stat.exited is exited


def test_parse_io_takes_character_counters() -> None:
    text = (
        "rchar: 3870585\nwchar: 138392\nsyscr: 12915\nsyscw: 418\n"
        "read_bytes: 987136\nwrite_bytes: 307200\ncancelled_write_bytes: 0\n"
    )
    assert parse_io(text) == IoCounters(3870585, 138392, 12915, 418)


def test_parse_io_accepts_another_order() -> None:
    text = "wchar: 2\nrchar: 1\nsyscw: 4\nsyscr: 3\n"
    assert parse_io(text) == IoCounters(1, 2, 3, 4)


def test_parse_schedstat_and_children() -> None:
    assert parse_schedstat("916133 0 17\n") == 17
    assert parse_children("5792 5793 ") == [5792, 5793]
    assert parse_children("") == []


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def test_handle_reads_a_live_process(sleeper: subprocess.Popen[bytes]) -> None:
    handle = ProcessHandle.open(sleeper.pid)
    assert handle is not None
    try:
        sample = handle.sample()
        assert sample is not None
        assert sample.stat.comm == "sleep"
        assert sample.stat.ppid == os.getpid()
        assert sample.io is not None  # root reads every io file
        assert sample.wakeups is not None and sample.wakeups >= 1
        assert handle.identity == read_identity(sleeper.pid)
    finally:
        handle.close()


def test_handle_fails_once_its_process_is_reaped(
    sleeper: subprocess.Popen[bytes],
) -> None:
    handle = ProcessHandle.open(sleeper.pid)
    assert handle is not None
    sleeper.kill()
    sleeper.wait()

    assert handle.sample() is None
    handle.close()


def test_handle_refuses_another_start_time(sleeper: subprocess.Popen[bytes]) -> None:
    identity = read_identity(sleeper.pid)
    assert identity is not None
    stale = ProcessId(sleeper.pid, identity.start_time - 1)

    assert ProcessHandle.open(sleeper.pid, expect=stale) is None
    assert read_stat(sleeper.pid) is not None


def test_gone_process_reads_as_none() -> None:
    process = subprocess.Popen(["true"])
    process.wait()
    assert read_stat(process.pid) is None
    assert read_wchan(process.pid) == ""
    assert read_children(process.pid) == []


def test_wchan_names_the_wait(sleeper: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while read_wchan(sleeper.pid) == "" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "nanosleep" in read_wchan(sleeper.pid)


_FORK_MANY = textwrap.dedent(
    """
    import os, signal, sys
    for _ in range(int(sys.argv[1])):
        if os.fork() == 0:
            signal.pause()
            os._exit(0)
    print("ready", flush=True)
    signal.pause()
    """
)


@pytest.fixture
def many_children() -> Iterator[tuple[int, int]]:
    count = 1000
    process = subprocess.Popen(
        [sys.executable, "-c", _FORK_MANY, str(count)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        yield process.pid, count
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()  # type: ignore[union-attr]


def test_children_are_read_to_the_end(many_children: tuple[int, int]) -> None:
    pid, count = many_children

    plain = read_children(pid)
    handle = ProcessHandle.open(pid)
    assert handle is not None
    try:
        sample = handle.sample()
        assert sample is not None
        held = handle.children(sample.stat)
        held_again = handle.children(sample.stat)
    finally:
        handle.close()

    assert len(plain) == count
    assert sorted(held) == sorted(plain) == sorted(held_again)


_THREAD_SPAWNS = textwrap.dedent(
    """
    import subprocess, threading, time
    def spawn():
        subprocess.Popen(["sleep", "60"])
        print("ready", flush=True)
        time.sleep(60)
    threading.Thread(target=spawn, daemon=True).start()
    time.sleep(60)
    """
)


def test_children_of_other_threads_are_found() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", _THREAD_SPAWNS],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        stat = read_stat(process.pid)
        assert stat is not None and stat.num_threads == 2

        main_thread_only = read_children(process.pid, 1)
        every_thread = read_children(process.pid, stat.num_threads)

        child_stats = [read_stat(child) for child in every_thread]
        assert main_thread_only == []
        assert [child.comm for child in child_stats if child] == ["sleep"]
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()  # type: ignore[union-attr]
