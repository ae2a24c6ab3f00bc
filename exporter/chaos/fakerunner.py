"""A fake runner agent: a real process the lab's exporter takes for a CI
runner root, which starts jobs as its children when asked.

The root reads JSON requests on stdin and answers on stdout:
``{"op": "spawn", "argv": [[...], ...]}`` starts each command at once (so a
burst really is one) and answers ``[[pid, start_time], ...]``;
``{"op": "end", "pids": [...]}`` kills those of its children with SIGKILL
and reaps them. It reaps finished children itself, and signals only
children it has not reaped yet, so a reused pid is never signalled. Jobs
get a pipe nobody writes as stdin (EOF once the root is gone) and the lab's
job log as stdout and stderr. When its stdin closes (the lab ended, or the
chaos command died) the root kills its children and exits.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Final

from exporter.chaos.outcome import LabError
from exporter.procfs import ProcessId

ANSWER_TIMEOUT_SECONDS: Final = 15.0

_ROOT_SOURCE: Final = """
import json, os, select, signal, sys

log = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
never_read, never_written = os.pipe()
actions = [
    (os.POSIX_SPAWN_DUP2, never_read, 0),
    (os.POSIX_SPAWN_DUP2, log, 1),
    (os.POSIX_SPAWN_DUP2, log, 2),
]
children = set()

def start_time(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[19])

def reap():
    for pid in list(children):
        if os.waitpid(pid, os.WNOHANG)[0]:
            children.discard(pid)

def end(pids):
    for pid in pids:
        if pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            children.discard(pid)

def answer(value):
    sys.stdout.write(json.dumps(value) + "\\n")
    sys.stdout.flush()

def spawn(argvs):
    pids = [
        os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        for argv in argvs
    ]
    children.update(pids)
    return [[pid, start_time(pid)] for pid in pids]

signal.signal(signal.SIGTERM, lambda *_: (end(list(children)), sys.exit(0)))
answer("ready")
pending = b""
while True:
    ready = select.select([0], [], [], 0.1)[0]
    reap()
    if not ready:
        continue
    chunk = os.read(0, 65536)
    if not chunk:
        end(list(children))
        break
    *lines, pending = (pending + chunk).split(b"\\n")
    for line in lines:
        request = json.loads(line)
        if request["op"] == "spawn":
            answer(spawn(request["argv"]))
        else:
            end(request["pids"])
            answer("ended")
"""


class FakeRunner:
    """The root process and its request pipe."""

    def __init__(self, marker: str, job_log: Path) -> None:
        self.marker = marker
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ROOT_SOURCE, marker, str(job_log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        if self._answer() != "ready":
            raise LabError("the fake runner root did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    def spawn(self, argvs: Sequence[Sequence[str]]) -> list[ProcessId]:
        """Start every command as a child at once; their identities."""
        answer = self._ask({"op": "spawn", "argv": [list(argv) for argv in argvs]})
        assert isinstance(answer, list)
        return [ProcessId(int(pid), int(start)) for pid, start in answer]

    def end(self, jobs: Sequence[ProcessId]) -> None:
        """SIGKILL those of the jobs that are still the root's children."""
        self._ask({"op": "end", "pids": [job.pid for job in jobs]})

    def close(self) -> None:
        """Close the request pipe: the root kills its children and exits."""
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is not None and not stdin.closed:
            stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if stdout is not None:
            stdout.close()

    def _ask(self, request: dict[str, object]) -> object:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except BrokenPipeError:
            raise LabError("the fake runner root has exited") from None
        return self._answer()

    def _answer(self) -> object:
        stdout = self.process.stdout
        assert stdout is not None
        line = _read_line(stdout, ANSWER_TIMEOUT_SECONDS)
        if not line:
            raise LabError("the fake runner root did not answer")
        return json.loads(line)


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    """One line, or b"" when none came within ``timeout`` seconds. The root
    answers one line per request, so nothing is left buffered."""
    ready = select.select([stream], [], [], timeout)[0]
    return stream.readline() if ready else b""
