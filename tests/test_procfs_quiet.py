"""A process that has not run since its last read is not read again: its
handle answers from ``schedstat`` alone. Shown on real processes: one that
sleeps, one that wakes and forks, one that spins, one with two threads, and
a sleeping subreaper that is handed an orphan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from exporter.procfs import ProcessHandle, read_identity, read_stat
from exporter.proctree import TreeSampler

_READER = textwrap.dedent(
    """
    import os, sys
    print("ready", flush=True)
    for line in sys.stdin:
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "60"])
        print("forked", flush=True)
    """
)
_SPINNER = "while True: pass"
_TWO_THREADS = textwrap.dedent(
    """
    import threading, time
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    print("ready", flush=True)
    time.sleep(60)
    """
)
# A child subreaper whose child forks a sleeping grandchild, then exits when
# told: the grandchild becomes the sleeping subreaper's, which never runs.
_SUBREAPER = textwrap.dedent(
    """
    import ctypes, os, sys, time
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # CHILD_SUBREAPER
    if os.fork() == 0:
        grandchild = os.fork()
        if grandchild == 0:
            os.execvp("sleep", ["sleep", "60"])
        print(os.getpid(), grandchild, flush=True)
        sys.stdin.readline()
        os._exit(0)
    time.sleep(60)
    """
)


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def start(
    started: list[subprocess.Popen[bytes]], script: str
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    started.append(process)
    return process


@pytest.fixture
def reader(spawn: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """A process asleep on its stdin; each line makes it fork a sleep."""
    process = start(spawn, _READER)
    assert process.stdout is not None and process.stdin is not None
    assert process.stdout.readline() == b"ready\n"
    settle(process.pid)
    return process


def fork_one(reader: subprocess.Popen[bytes]) -> None:
    """Make the reader fork a sleep; returns once it has."""
    assert reader.stdin is not None and reader.stdout is not None
    reader.stdin.write(b"fork\n")
    reader.stdin.flush()
    assert reader.stdout.readline() == b"forked\n"


def open_handle(pid: int) -> ProcessHandle:
    handle = ProcessHandle.open(pid)
    assert handle is not None
    return handle


def settle(pid: int) -> None:
    """Wait until ``pid`` sleeps (it may still be finishing a print)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stat = read_stat(pid)
        if stat is not None and stat.state == "S":
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} never went to sleep")


def test_a_sleeping_process_is_answered_from_its_last_read(
    reader: subprocess.Popen[bytes],
) -> None:
    handle = open_handle(reader.pid)
    try:
        first = handle.sample()
        assert first is not None
        assert handle.children(first.stat) == []
        again = handle.sample()
        rested = handle.quiet

        fork_one(reader)
        woken = handle.sample()
        woke_quiet = handle.quiet
        assert woken is not None
        children = handle.children(woken.stat)
    finally:
        handle.close()

    assert rested is True
    assert again is first
    assert woke_quiet is False
    assert woken.io is not None and first.io is not None
    assert woken.io.rchar > first.io.rchar
    assert woken.wakeups is not None and first.wakeups is not None
    assert woken.wakeups > first.wakeups
    assert len(children) == 1


@pytest.mark.parametrize(
    "script", [_SPINNER, _TWO_THREADS], ids=["running", "two-threads"]
)
def test_running_or_threaded_processes_are_always_read(
    spawn: list[subprocess.Popen[bytes]], script: str
) -> None:
    process = start(spawn, script)
    if script == _TWO_THREADS:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
    handle = open_handle(process.pid)
    quiet = []
    try:
        for _ in range(6):
            assert handle.sample() is not None
            quiet.append(handle.quiet)
            time.sleep(0.05)
    finally:
        handle.close()

    assert quiet == [False] * 6


def test_fresh_reads_a_sleeping_process_in_full(
    reader: subprocess.Popen[bytes],
) -> None:
    handle = open_handle(reader.pid)
    try:
        first = handle.sample()
        fresh = handle.sample(fresh=True)
        fresh_quiet = handle.quiet
    finally:
        handle.close()

    assert fresh_quiet is False
    assert fresh is not first
    assert fresh == first  # read again, and nothing had moved


def test_an_orphan_handed_to_a_sleeping_subreaper_is_found(
    spawn: list[subprocess.Popen[bytes]],
) -> None:
    subreaper = start(spawn, _SUBREAPER)
    assert subreaper.stdout is not None and subreaper.stdin is not None
    child_pid, grandchild_pid = map(int, subreaper.stdout.readline().split())
    settle(subreaper.pid)
    settle(grandchild_pid)
    root = read_identity(subreaper.pid)
    grandchild = read_identity(grandchild_pid)
    assert root is not None and grandchild is not None

    with TreeSampler() as sampler:
        before = sampler.sample(root)
        sampler.sample(root)  # everything at rest

        subreaper.stdin.write(b"exit\n")
        subreaper.stdin.flush()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            stat = read_stat(child_pid)
            if stat is None or stat.exited:
                break
            time.sleep(0.01)
        after = [sampler.sample(root) for _ in range(2)]
        orphan_stat = read_stat(grandchild_pid)

    assert sorted(member.pid for member in before.members) == sorted(
        [subreaper.pid, child_pid, grandchild_pid]
    )
    assert orphan_stat is not None and orphan_stat.ppid == subreaper.pid
    assert set(after[-1].members) == {root, grandchild}


def test_a_tree_at_rest_is_unchanged_until_a_member_runs(
    reader: subprocess.Popen[bytes],
) -> None:
    root = read_identity(reader.pid)
    assert root is not None

    with TreeSampler() as sampler:
        at_rest = [sampler.sample(root).unchanged for _ in range(3)]
        fork_one(reader)
        forked = sampler.sample(root)
        settle(reader.pid)
        for child in forked.members:
            if child != root:
                settle(child.pid)
        after = [sampler.sample(root) for _ in range(3)]

    # the first walk finds the members (a change from none), so the second
    # reads everything again; from the third on the tree rests
    assert at_rest == [False, False, True]
    assert forked.unchanged is False and len(forked.members) == 2
    # the walk after a change reads everything again, then rests
    assert [walk.unchanged for walk in after] == [False, True, True]
    assert all(len(walk.members) == 2 for walk in after)
