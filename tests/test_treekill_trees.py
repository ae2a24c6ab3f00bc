"""The tree kill on real trees: shells, setsid escapes, fork storms,
SIGTERM-ignoring members, protected roots and stale identities.

Every process started here carries a marker in its arguments (a sleep of an
odd length), and the tests look for the marker among all processes, so an
escaped process is found even where the tree no longer reaches it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from exporter.procfs import ProcessId, read_identity, read_stat
from exporter.treekill import ancestors, kill_tree, refusal


def marked(pid: int, marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line holds ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                if marker.encode() not in cmdline.read():
                    continue
        except OSError:
            continue
        stat = read_stat(int(name))
        if stat is not None and not stat.exited:
            found.append(int(name))
    return found


def wait_for_sleeps(marker: str, count: int) -> None:
    """Wait until ``count`` marked processes have become ``sleep``."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = [read_stat(pid) for pid in marked(os.getpid(), marker)]
        if sum(1 for stat in stats if stat and stat.comm == "sleep") >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} sleep processes did not start")


@pytest.fixture
def marker() -> Iterator[str]:
    value = f"3{os.getpid() % 1000}.{time.monotonic_ns() % 10**6:06d}"
    yield value
    for pid in marked(os.getpid(), value):  # clean up after a failed test
        os.kill(pid, signal.SIGKILL)


def start(argv: list[str]) -> tuple[subprocess.Popen[bytes], ProcessId]:
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, start_new_session=True)
    assert process.stdout is not None
    process.stdout.readline()  # each tree prints one line once it is set up
    identity = read_identity(process.pid)
    assert identity is not None
    return process, identity


def finish(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def test_shell_with_background_sleep_dies_on_sigterm(marker: str) -> None:
    process, root = start(["sh", "-c", f"sleep {marker} & echo started; wait"])
    try:
        wait_for_sleeps(marker, 1)
        report = kill_tree(root, 2.0, protect=set(), reap=process.poll)
    finally:
        finish(process)

    assert sorted(report.members.values()) == ["sh", "sleep"]
    assert not report.killed_outright  # everyone left within the grace period
    assert report.survivors == []
    assert marked(os.getpid(), marker) == []
    assert [batch.signal for batch in report.signals] == [
        "SIGSTOP",
        "SIGTERM",
        "SIGCONT",
    ]


_SETSID_CHILD = textwrap.dedent(
    """
    import os, sys
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", sys.argv[1]])
        os.execvp("sleep", ["sleep", sys.argv[1]])
    print("ready", flush=True)
    os.wait()
    """
)


def test_setsid_and_double_fork_do_not_escape(marker: str) -> None:
    process, root = start([sys.executable, "-c", _SETSID_CHILD, marker])
    try:
        wait_for_sleeps(marker, 2)
        report = kill_tree(root, 1.0, protect=set(), reap=process.poll)
    finally:
        finish(process)

    assert len(report.members) == 3
    assert report.survivors == []
    assert marked(os.getpid(), marker) == []


_FORK_STORM = textwrap.dedent(
    """
    import os, sys, time
    print("ready", flush=True)
    while True:
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", sys.argv[1]])
        time.sleep(0.005)
    """
)


def test_a_parent_forking_every_5ms_leaves_zero_survivors(marker: str) -> None:
    process, root = start([sys.executable, "-c", _FORK_STORM, marker])
    try:
        time.sleep(0.5)  # let it build up a crowd of children
        report = kill_tree(root, 1.0, protect=set(), reap=process.poll)
    finally:
        finish(process)

    assert len(report.members) > 10
    assert report.survivors == []
    assert marked(os.getpid(), marker) == []


_IGNORES_TERM = textwrap.dedent(
    """
    import os, signal, sys
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", sys.argv[1]])
    print("ready", flush=True)
    signal.pause()
    """
)


def test_members_ignoring_sigterm_get_sigkill(marker: str) -> None:
    process, root = start([sys.executable, "-c", _IGNORES_TERM, marker])
    try:
        wait_for_sleeps(marker, 1)
        report = kill_tree(root, 0.5, protect=set(), reap=process.poll)
    finally:
        finish(process)

    assert report.killed_outright
    assert report.survivors == []
    assert marked(os.getpid(), marker) == []
    fields = report.to_fields()
    assert fields["root"] == f"{root.pid}@{root.start_time}"
    assert fields["survivors"] == []
    signals = [batch["signal"] for batch in fields["signals"]]  # type: ignore[attr-defined]
    assert signals[-1] == "SIGKILL"


_PARENT_STAYS = textwrap.dedent(
    """
    import subprocess, sys, time
    subprocess.Popen(["sleep", sys.argv[1]])
    print("ready", flush=True)
    time.sleep(600)
    """
)


def test_a_protected_root_survives_while_its_tree_dies(marker: str) -> None:
    process, root = start([sys.executable, "-c", _PARENT_STAYS, marker])
    try:
        wait_for_sleeps(marker, 1)
        report = kill_tree(root, 1.0, protect={root.pid})
        alive = read_identity(process.pid)
    finally:
        finish(process)

    assert alive == root
    assert list(report.members.values()) == ["sleep"]
    assert marked(os.getpid(), marker) == []


def test_a_stale_identity_is_never_signalled(marker: str) -> None:
    process, real = start(["sh", "-c", f"sleep {marker} & echo started; wait"])
    try:
        stale = ProcessId(real.pid, real.start_time + 1)
        report = kill_tree(stale, 0.2, protect=set())
        still = read_identity(process.pid)
        sleepers = marked(os.getpid(), marker)
    finally:
        finish(process)

    assert report.signals == []
    assert report.members == {}
    assert still == real
    assert len(sleepers) == 2  # the shell (its script names the marker) and sleep


def test_init_and_ancestors_are_refused_without_walking() -> None:
    parent = read_identity(os.getppid())
    init = read_identity(1)
    assert parent is not None and init is not None

    assert refusal(init) == "init"
    assert refusal(ProcessId(1, 0)) == "init"
    assert refusal(parent) == "ancestor"
    assert os.getppid() in ancestors()


_KILLS_ITS_PARENT = textwrap.dedent(
    """
    import os
    from exporter.procfs import read_identity
    from exporter.treekill import ancestors, kill_tree, refusal
    report = kill_tree(read_identity(os.getppid()), 0.2, protect=set())
    print(len(report.members), len(report.signals), flush=True)
    """
)


def test_a_kill_aimed_at_an_ancestor_signals_nobody(marker: str) -> None:
    # Sandboxed: the would-be victim is a shell this test started.
    script = f"sleep {marker} & {sys.executable} -c '{_KILLS_ITS_PARENT}'; kill $!"
    result = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.stdout.split() == ["0", "0"]
    assert result.returncode == 0
