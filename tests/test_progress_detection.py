"""Stall detection on real processes: sleeping trees are flagged with their
cause; busy, file-writing and socket-receiving processes never are.

Time is counted in samples (a logical clock advanced by one interval per
sample) while the processes run in real time, so the assertions are about
how many samples it took, never about wall-clock speed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from exporter.cause import Diagnosis, classify
from exporter.procfs import read_identity
from exporter.proctree import TreeSampler
from exporter.progress import ProgressTracker

STALL_SECONDS = 1.0
INTERVAL_SECONDS = 0.2
# Samples within which a stall must be flagged: allowance plus two intervals.
FLAG_WITHIN = round(STALL_SECONDS / INTERVAL_SECONDS) + 2
# Samples a busy process is watched for: three allowances.
WATCH_SAMPLES = 3 * round(STALL_SECONDS / INTERVAL_SECONDS)


@dataclass
class Watch:
    stalled_at: int | None  # sample index of the stall verdict
    reasons: list[str]
    diagnosis: Diagnosis | None


def watch(pid: int, samples: int) -> Watch:
    root = read_identity(pid)
    assert root is not None
    tracker = ProgressTracker(now=0.0)
    reasons: list[str] = []
    with TreeSampler() as sampler:
        for index in range(samples):
            now = index * INTERVAL_SECONDS
            sample = sampler.sample(root)
            reasons.append(tracker.observe(sample, now).reason)
            if tracker.stalled(now, STALL_SECONDS):
                return Watch(index, reasons, classify(sample))
            time.sleep(INTERVAL_SECONDS)
    return Watch(None, reasons, None)


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        subprocess.run(["pkill", "-KILL", "-s", str(process.pid)], check=False)
        process.kill()
        process.wait()


def start(started: list[subprocess.Popen[bytes]], *argv: str, **kw: object) -> int:
    process = subprocess.Popen(list(argv), start_new_session=True, **kw)  # type: ignore[call-overload]
    started.append(process)
    return int(process.pid)


SLEEPING_TREES = [
    pytest.param(["sleep", "60"], "idle", id="lone-sleep-idle"),
    pytest.param(["sh", "-c", "sleep 60 & wait"], "child_hang", id="shell-wait"),
    pytest.param(
        [sys.executable, "-c", "import subprocess; subprocess.run(['sleep', '60'])"],
        "child_hang",
        id="python-run-hung-child",
    ),
    pytest.param(
        [
            sys.executable,
            "-c",
            "import subprocess; subprocess.check_output(['sleep', '60'])",
        ],
        "child_hang",
        id="python-reads-hung-child-pipe",
    ),
    pytest.param(
        [sys.executable, "-c", "import threading; threading.Event().wait()"],
        "idle",
        id="futex-idle",
    ),
]


@pytest.mark.parametrize(("argv", "cause"), SLEEPING_TREES)
def test_sleeping_tree_is_flagged_with_its_cause(
    spawn: list[subprocess.Popen[bytes]], argv: list[str], cause: str
) -> None:
    pid = start(spawn, *argv)

    result = watch(pid, FLAG_WITHIN + 1)

    assert result.stalled_at is not None
    assert result.stalled_at <= FLAG_WITHIN
    assert result.diagnosis is not None
    assert result.diagnosis.cause == cause


def test_busy_cpu_is_never_flagged(spawn: list[subprocess.Popen[bytes]]) -> None:
    pid = start(spawn, sys.executable, "-c", "while True: pass")

    result = watch(pid, WATCH_SAMPLES)

    assert result.stalled_at is None
    assert set(result.reasons[1:]) == {"cpu"}


_TMPFS_LOOP = textwrap.dedent(
    """
    import os, sys, time
    path = sys.argv[1]
    while True:
        with open(path, "wb") as out:
            out.write(b"x" * 1024)
        with open(path, "rb") as back:
            back.read()
        time.sleep(0.05)
    """
)


def test_tmpfs_reads_and_writes_are_never_flagged(
    spawn: list[subprocess.Popen[bytes]],
) -> None:
    with open("/proc/mounts") as mounts:
        assert any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in mounts)
    path = f"/dev/shm/runner-watchdog-test-{os.getpid()}"
    pid = start(spawn, sys.executable, "-c", _TMPFS_LOOP, path)
    try:
        result = watch(pid, WATCH_SAMPLES)
    finally:
        spawn[-1].kill()
        spawn[-1].wait()
        os.unlink(path)

    assert result.stalled_at is None
    assert "io" in result.reasons


_RECEIVER = textwrap.dedent(
    """
    import socket, sys
    connection = socket.socket(fileno=int(sys.argv[1]))
    while connection.recv(4096):
        pass
    """
)


def test_socket_receiver_is_never_flagged(
    spawn: list[subprocess.Popen[bytes]],
) -> None:
    ours, theirs = socket.socketpair()
    stop = threading.Event()

    def send() -> None:
        while not stop.wait(0.1):
            ours.send(b"k" * 1024)

    pid = start(
        spawn,
        sys.executable,
        "-c",
        _RECEIVER,
        str(theirs.fileno()),
        pass_fds=[theirs.fileno()],
    )
    theirs.close()
    sender = threading.Thread(target=send)
    sender.start()
    try:
        result = watch(pid, WATCH_SAMPLES)
    finally:
        stop.set()
        sender.join()
        ours.close()

    assert result.stalled_at is None
    assert "network" in result.reasons


def test_socket_receiver_without_traffic_is_network(
    spawn: list[subprocess.Popen[bytes]],
) -> None:
    ours, theirs = socket.socketpair()
    pid = start(
        spawn,
        sys.executable,
        "-c",
        _RECEIVER,
        str(theirs.fileno()),
        pass_fds=[theirs.fileno()],
    )
    theirs.close()
    try:
        result = watch(pid, FLAG_WITHIN + 1)
    finally:
        ours.close()

    assert result.stalled_at is not None
    assert result.diagnosis is not None
    assert result.diagnosis.cause == "network"
