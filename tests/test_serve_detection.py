"""The watcher on real process trees under a fake runner root: stalls are
flagged in time and with their cause, busy work never is, the kill action
kills the tree and counts an auto-skip, and endings are executions.

Time is counted in samples: the watcher's clock advances one sample
interval per pass while the processes run in real time, so assertions are
about how many samples it took, never about wall-clock speed.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from serve_support import (
    fake_runner,
    make_config,
    new_marker,
    wait_for_comm,
    wait_for_descendant,
)

from exporter.config.model import Rotation
from exporter.contract import EXECUTION_STREAM, KILL_STREAM, STALL_STREAM
from exporter.evidence import EvidenceWriter
from exporter.metrics import ExporterMetrics
from exporter.procfs import read_stat
from exporter.settings import WatchSettings
from exporter.stallresponse import StallResponder
from exporter.watcher import Watcher

STALL_SECONDS = 2
INTERVAL_SECONDS = 1  # the config's; one pass advances the clock by it
REAL_PAUSE = 0.2  # real time between passes
FLAG_WITHIN = STALL_SECONDS + 2 * INTERVAL_SECONDS
JOB_MARK = "rw-test-job"  # the hanger command type's argument pattern


@dataclass
class Harness:
    watcher: Watcher
    metrics: ExporterMetrics
    evidence: Path
    clock: list[float]
    settings: WatchSettings

    def run(self, passes: int, until_stalls: int | None = None) -> list[float]:
        """Run passes; the clock times at which stalls were flagged."""
        flagged: list[float] = []
        for _ in range(passes):
            counts = self.watcher.sample()
            flagged.extend([self.clock[0]] * counts.stalls)
            if until_stalls is not None and len(flagged) >= until_stalls:
                break
            self.clock[0] += INTERVAL_SECONDS
            time.sleep(REAL_PAUSE)
        return flagged

    def events(self, stream: str) -> list[dict[str, object]]:
        path = self.evidence / f"{stream}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def count(self, table: str, command_type: str, value: str | None = None) -> float:
        view = self.metrics.view()
        key = self.settings.scope.job_labels(command_type)
        counters = getattr(view, table)
        return float(counters[key if value is None else (*key, value)])


@pytest.fixture
def marker() -> str:
    return new_marker()


def harness_for(tmp_path: Path, marker: str, hanger_action: str) -> Iterator[Harness]:
    evidence = tmp_path / "evidence"
    config = make_config(evidence, marker, hanger_action=hanger_action)
    settings = WatchSettings(config, "ci")
    metrics = ExporterMetrics("test")
    metrics.use_scope(settings.scope)
    writer = EvidenceWriter(
        evidence, Rotation(50 << 20, 1 << 30, 14), host="testhost", environment="ci"
    )
    clock = [0.0]
    watcher = Watcher(settings, StallResponder(metrics, writer), clock=lambda: clock[0])
    try:
        yield Harness(watcher, metrics, evidence, clock, settings)
    finally:
        watcher.responder.close()
        watcher.close()
        writer.close()


@pytest.fixture
def harness(tmp_path: Path, marker: str) -> Iterator[Harness]:
    yield from harness_for(tmp_path, marker, "observe")


@pytest.fixture
def killing(tmp_path: Path, marker: str) -> Iterator[Harness]:
    yield from harness_for(tmp_path, marker, "kill")


def job(script: str, *args: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(script), *args, JOB_MARK]


SLEEPING_TREES = [
    pytest.param(["sleep", "600"], "sleeper", "idle", id="lone-sleep-idle"),
    pytest.param(
        ["sh", "-c", "sleep 600 & wait", JOB_MARK], "hanger", "child_hang", id="shell"
    ),
    pytest.param(
        job("import subprocess; subprocess.run(['sleep', '600'])"),
        "hanger",
        "child_hang",
        id="parent-on-hung-child",
    ),
]


@pytest.mark.parametrize(("command", "command_type", "cause"), SLEEPING_TREES)
def test_a_sleeping_tree_is_flagged_in_time_with_its_cause(
    harness: Harness, marker: str, command: list[str], command_type: str, cause: str
) -> None:
    with fake_runner(marker, command) as runner:
        wait_for_descendant(runner.pid, "sleep")  # the tree has settled
        flagged = harness.run(FLAG_WITHIN + 2, until_stalls=1)

    assert flagged and flagged[0] <= FLAG_WITHIN
    assert harness.count("stalls", command_type, cause) == 1
    [event] = harness.events(STALL_STREAM)
    assert (event["command_type"], event["cause"]) == (command_type, cause)
    assert event["action"] == "observe"
    assert event["observer"] == "exporter"
    assert event["thresholds"] == {
        "stall_seconds": STALL_SECONDS,
        "hard_timeout_seconds": 3600,
        "kill_grace_seconds": 1,
        "sample_interval_seconds": INTERVAL_SECONDS,
    }
    members = event["members"]
    assert isinstance(members, list) and members
    assert {"pid", "start_time", "comm", "state", "wchan", "role", "ppid"} <= set(
        members[0]
    )
    assert isinstance(event["last_progress"], str)


def test_a_stall_is_flagged_once_until_progress(harness: Harness, marker: str) -> None:
    with fake_runner(marker, ["sleep", "600"]):
        flagged = harness.run(4 * FLAG_WITHIN)

    assert len(flagged) == 1


_BUSY = "while True: pass"

_TMPFS = """
import sys, time
path = sys.argv[1]
while True:
    with open(path, "wb") as out:
        out.write(b"x" * 1024)
    with open(path, "rb") as back:
        back.read()
    time.sleep(0.05)
"""

_RECEIVER = """
import socket, sys
connection = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
while connection.recv(4096):
    pass
"""


def test_busy_cpu_is_never_flagged(harness: Harness, marker: str) -> None:
    with fake_runner(marker, job(_BUSY)):
        flagged = harness.run(3 * FLAG_WITHIN)

    assert flagged == []
    assert harness.watcher.jobs  # it was watched all along


def test_tmpfs_reads_and_writes_are_never_flagged(
    harness: Harness, marker: str
) -> None:
    path = f"/dev/shm/runner-watchdog-serve-test-{os.getpid()}"
    try:
        with fake_runner(marker, job(_TMPFS, path)):
            flagged = harness.run(3 * FLAG_WITHIN)
    finally:
        if os.path.exists(path):
            os.unlink(path)

    assert flagged == []
    assert harness.events(STALL_STREAM) == []


def test_a_socket_receiving_1kb_every_100ms_is_never_flagged(
    harness: Harness, marker: str
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def send() -> None:
        connection, _ = listener.accept()
        with connection:
            while not stop.wait(0.1):
                connection.sendall(b"k" * 1024)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        with fake_runner(marker, job(_RECEIVER, str(port))):
            flagged = harness.run(3 * FLAG_WITHIN)
    finally:
        stop.set()
        sender.join()
        listener.close()

    assert flagged == []


def test_the_kill_action_kills_the_tree_and_counts_an_auto_skip(
    killing: Harness, marker: str
) -> None:
    hung = job("import subprocess; subprocess.run(['sleep', '600'])")
    with fake_runner(marker, hung) as runner:
        [parent] = runner.children()
        wait_for_descendant(parent, "sleep")
        flagged = killing.run(FLAG_WITHIN + 2, until_stalls=1)
        killing.watcher.responder.drain(wait=True)
        parent_gone = read_stat(parent) is None or _exited(parent)
        killing.run(1)  # the next pass sees the job ended

    assert flagged
    assert parent_gone
    assert killing.count("stalls", "hanger", "child_hang") == 1
    assert killing.count("auto_skips", "hanger") == 1
    assert killing.count("executions", "hanger", "skipped") == 1
    [kill] = killing.events(KILL_STREAM)
    assert kill["cause"] == "child_hang"
    assert kill["survivors"] == []
    assert {member["comm"] for member in kill["members"]} >= {"sleep"}  # type: ignore[attr-defined]


def _exited(pid: int) -> bool:
    stat = read_stat(pid)
    return stat is None or stat.exited


def test_a_job_that_ends_on_its_own_is_an_unknown_execution(
    harness: Harness, marker: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    os.mkfifo(go)
    with fake_runner(marker, job("import sys; open(sys.argv[1]).read()", str(go))):
        harness.run(1)
        watched = len(harness.watcher.jobs)
        go.write_text("end\n")
        harness.run(3)

    assert (watched, len(harness.watcher.jobs)) == (1, 0)
    assert harness.count("executions", "hanger", "unknown") == 1
    durations = harness.metrics.view().durations
    histogram = durations[harness.settings.scope.job_labels("hanger")]
    assert histogram.count == 1
    assert 0 <= histogram.total < 60
    [event] = harness.events(EXECUTION_STREAM)
    assert (event["result"], event["observer"]) == ("unknown", "exporter")


def test_a_job_root_that_execs_takes_its_new_type(
    harness: Harness, marker: str, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    os.mkfifo(go)
    script = (
        "import os, sys; open(sys.argv[1]).read(); os.execvp('sleep', ['sleep', '600'])"
    )
    with fake_runner(marker, job(script, str(go))) as runner:
        [pid] = runner.children()
        harness.run(1)
        [watched] = harness.watcher.jobs.values()
        before = watched.command_type
        go.write_text("exec\n")
        wait_for_comm(pid, "sleep")
        harness.run(1)
        after = watched.command_type

    assert (before, after) == ("hanger", "sleeper")
