"""The tree kill on real trees: shells, setsid escapes, fork storms,
SIGTERM-ignoring members, protected roots and stale identities.

Every process started here carries a marker in its arguments (a sleep of an
odd length), and the tests look for the marker among all processes, so an
escaped process is found even where the tree no longer reaches it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator

import pytest
from run_support import kill_marked, marked, sleep_marker

from exporter.procfs import ProcessId, read_identity, read_stat
from exporter.treekill import KillReport, ancestors, kill_tree, refusal


def live_marked(marker: str) -> list[int]:
    """Marked processes, leaving out any that exited after the look."""
    return marked(marker, confirm_alive=True)


def wait_for_sleeps(marker: str, count: int) -> None:
    """Wait until ``count`` marked processes have become ``sleep``."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        stats = [read_stat(pid) for pid in live_marked(marker)]
        if sum(1 for stat in stats if stat and stat.comm == "sleep") >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} sleep processes did not start")


@pytest.fixture
def marker() -> Iterator[str]:
    value = sleep_marker(3)
    yield value
    kill_marked(value, confirm_alive=True)  # clean up after a failed test


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


def kill_started(
    argv: list[str], settle: Callable[[], object], grace_seconds: float
) -> tuple[ProcessId, KillReport]:
    """Start a tree, wait for ``settle()``, then kill it from its root."""
    process, root = start(argv)
    try:
        settle()
        report = kill_tree(root, grace_seconds, protect=set(), reap=process.poll)
    finally:
        finish(process)
    return root, report


def test_shell_with_background_sleep_dies_on_sigterm(marker: str) -> None:
    _, report = kill_started(
        ["sh", "-c", f"sleep {marker} & echo started; wait"],
        lambda: wait_for_sleeps(marker, 1),
        2.0,
    )

    assert sorted(report.members.values()) == ["sh", "sleep"]
    assert not report.killed_outright  # everyone left within the grace period
    assert report.survivors == []
    assert live_marked(marker) == []
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
    _, report = kill_started(
        [sys.executable, "-c", _SETSID_CHILD, marker],
        lambda: wait_for_sleeps(marker, 2),
        1.0,
    )

    assert len(report.members) == 3
    assert report.survivors == []
    assert live_marked(marker) == []


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
    _, report = kill_started(
        [sys.executable, "-c", _FORK_STORM, marker],
        lambda: time.sleep(0.5),  # let it build up a crowd of children
        1.0,
    )

    assert len(report.members) > 10
    assert report.survivors == []
    assert live_marked(marker) == []


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
    root, report = kill_started(
        [sys.executable, "-c", _IGNORES_TERM, marker],
        lambda: wait_for_sleeps(marker, 1),
        0.5,
    )

    assert report.killed_outright
    assert report.survivors == []
    assert live_marked(marker) == []
    fields = report.to_fields()
    assert fields["root"] == f"{root.pid}@{root.start_time}"
    assert fields["survivors"] == []
    batches = fields["signals"]
    assert isinstance(batches, list)
    signals = [batch["signal"] for batch in batches]
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
    assert live_marked(marker) == []


def test_a_stale_identity_is_never_signalled(marker: str) -> None:
    process, real = start(["sh", "-c", f"sleep {marker} & echo started; wait"])
    try:
        stale = ProcessId(real.pid, real.start_time + 1)
        report = kill_tree(stale, 0.2, protect=set())
        still = read_identity(process.pid)
        sleepers = live_marked(marker)
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
