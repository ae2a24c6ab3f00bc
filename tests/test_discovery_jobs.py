"""Discovery on real processes: runner roots from the config, jobs among
their descendants, run wrappers left alone, exec followed, classification
made once per name."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from serve_support import (
    fake_runner,
    make_config,
    new_marker,
    wait_for,
    wait_for_comm,
)

from exporter.config.model import RunnerAgent
from exporter.discovery import NOT_RUNNER, RUNNER, WRAPPER, Discovery, RunnerMatcher
from exporter.procfs import ProcessId, read_identity, read_stat

HANGER = [sys.executable, "-c", "import time; time.sleep(600)", "rw-test-job"]
# What the run wrapper looks like: its console script after the interpreter.
WRAPPER_ARGV = [
    sys.executable,
    "-c",
    "import subprocess; subprocess.run(['sleep', '600'])",
    "/usr/local/bin/runner-watchdog",
    "run",
    "--",
    "sleep",
    "600",
]


def discovery(tmp_path: Path, marker: str, scan_every: int = 10) -> Discovery:
    config = make_config(tmp_path / "evidence", marker)
    return Discovery(config.runners, config.command_types, scan_every=scan_every)


def no_members() -> set[int]:
    return set()


def identity(pid: int) -> ProcessId:
    found = read_identity(pid)
    assert found is not None
    return found


def test_jobs_under_a_runner_root_are_found_with_their_type(tmp_path: Path) -> None:
    marker = new_marker()
    with fake_runner(marker, ["sleep", "600"], HANGER) as runner:
        sleeper, hanger = runner.children()
        expected = {identity(sleeper): "sleeper", identity(hanger): "hanger"}
        found = discovery(tmp_path, marker).discover({}, no_members)

    assert found.roots == 1
    assert found.jobs == expected


def test_watched_jobs_are_not_found_again(tmp_path: Path) -> None:
    marker = new_marker()
    with fake_runner(marker, ["sleep", "600"]) as runner:
        [sleeper] = runner.children()
        finder = discovery(tmp_path, marker)
        first = finder.discover({}, no_members)
        again = finder.discover({sleeper: identity(sleeper)}, no_members)

    assert list(first.jobs.values()) == ["sleeper"]
    assert (again.roots, again.jobs) == (1, {})


def test_a_run_wrapper_and_its_job_are_left_alone(tmp_path: Path) -> None:
    marker = new_marker()
    with fake_runner(marker, WRAPPER_ARGV, ["sleep", "601"]) as runner:
        wrapper, sleeper = runner.children()
        wait_for(lambda: children_of(wrapper))
        [wrapped] = children_of(wrapper)
        expected = {identity(sleeper): "sleeper"}
        found = discovery(tmp_path, marker).discover({}, no_members)
        wrapped_job = identity(wrapped)

    assert found.wrappers == 1
    assert found.jobs == expected
    assert wrapped_job not in found.jobs


def children_of(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(word) for word in listing.read().split()]


def test_a_shell_is_classified_by_what_it_execs(tmp_path: Path) -> None:
    marker = new_marker()
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    shell = ["sh", "-c", f"read line < {fifo}; exec sleep 600"]
    with fake_runner(marker, shell) as runner:
        [pid] = runner.children()
        finder = discovery(tmp_path, marker)
        before = finder.discover({}, no_members)
        fifo.write_text("go\n")
        wait_for_comm(pid, "sleep")
        after = finder.discover({}, no_members)
        expected = {identity(pid): "sleeper"}

    assert before.jobs == {}
    assert after.jobs == expected


def test_processes_are_classified_once_per_name(tmp_path: Path) -> None:
    marker = new_marker()
    with fake_runner(marker, ["sh", "-c", "sleep 600; true"]):
        finder = discovery(tmp_path, marker)
        found = [finder.discover({}, no_members) for _ in range(5)]

    assert [list(f.jobs.values()) for f in found] == [["sleeper"]] * 5
    assert finder.classifications == 2  # the shell, then its sleep


def test_a_root_that_ends_is_dropped(tmp_path: Path) -> None:
    marker = new_marker()
    finder = discovery(tmp_path, marker, scan_every=1000)
    with fake_runner(marker, ["sleep", "600"]):
        assert finder.discover({}, no_members).roots == 1

    assert finder.discover({}, no_members).roots == 0
    assert finder.roots == []


def test_new_roots_wait_for_the_next_full_scan(tmp_path: Path) -> None:
    marker = new_marker()
    finder = discovery(tmp_path, marker, scan_every=3)
    finder.discover({}, no_members)  # the first pass scans, finding nothing
    with fake_runner(marker, ["sleep", "600"]):
        counts = [finder.discover({}, no_members).roots for _ in range(3)]

    assert counts == [0, 0, 1]


def test_job_members_are_never_taken_for_roots(tmp_path: Path) -> None:
    marker = new_marker()
    finder = discovery(tmp_path, marker)
    with fake_runner(marker, ["sleep", "600"]) as runner:
        found = finder.discover({}, lambda: {runner.pid})

    assert (found.roots, found.jobs) == (0, {})


JENKINS = re.compile(r"(^|/)java\s.*[\s/](agent|remoting)\.jar(\s|$)")


@pytest.mark.parametrize(
    ("argv", "comm", "expected"),
    [
        pytest.param(
            ["Runner.Worker", "spawnclient"], "Runner.Worker", RUNNER, id="exe"
        ),
        pytest.param(["java", "-jar", "/opt/agent.jar"], "java", RUNNER, id="pattern"),
        pytest.param(
            ["/venv/bin/python3", "/venv/bin/runner-watchdog", "run", "--", "make"],
            "runner-watchdog",
            WRAPPER,
            id="run-wrapper",
        ),
        pytest.param(
            ["/venv/bin/python3", "/venv/bin/runner-watchdog", "serve"],
            "runner-watchdog",
            NOT_RUNNER,
            id="the-exporter",
        ),
        pytest.param(["bash", "-c", "make"], "bash", NOT_RUNNER, id="unmatched"),
    ],
)
def test_runner_roles(argv: list[str], comm: str, expected: str) -> None:
    runners = [
        RunnerAgent("github-actions", ("Runner.Listener", "Runner.Worker"), None),
        RunnerAgent("jenkins-agent", (), JENKINS),
    ]
    matcher = RunnerMatcher(runners, cmdline=lambda pid: argv)
    stat = read_stat(os.getpid())
    assert stat is not None

    assert matcher.role(stat._replace(comm=comm)) == expected


def test_uninterruptible_processes_are_judged_later() -> None:
    read: list[int] = []

    def cmdline(pid: int) -> list[str]:
        read.append(pid)
        return []

    matcher = RunnerMatcher([], cmdline=cmdline)
    stat = read_stat(os.getpid())
    assert stat is not None

    assert matcher.role(stat._replace(state="D")) is None
    assert read == []
    assert matcher.role(stat) == NOT_RUNNER
    assert read == [os.getpid()]
