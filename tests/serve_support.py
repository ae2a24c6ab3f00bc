"""Helpers for the exporter tests: a small config with a fake runner agent,
fake runner roots made of real processes, and scraping."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from exporter.config import Config, shipped_config_path, validate_text
from exporter.procfs import read_stat
from yamlsource import load_file

RUNNER_TEMPLATE = "rw-test-runner-{}"

# A config whose runner agent is any process carrying the marker in its
# arguments; `sleep` is a job of type sleeper, and any command line with
# `rw-test-job` a job of type hanger (kill on stall).
CONFIG = """\
timeouts:
  stall_seconds: {stall}
  hard_timeout_seconds: 3600
  kill_grace_seconds: 1
  sample_interval_seconds: 1
environments:
  default: ci
  ci:
    scale: 1.0
command_types:
  sleeper:
    executables: [sleep]
    action: observe
  hanger:
    argument_pattern: 'rw-test-job'
    action: {hanger_action}
metrics:
  listen_address: 127.0.0.1
  port: 9477
  path: /metrics
  service: runner
  host: testhost
logging:
  level: info
  format: text
  evidence_dir: {evidence}
  rotation:
    max_file_bytes: 52428800
    max_total_bytes: 1073741824
    retention_days: 14
runners:
  - name: test-runner
    argument_pattern: '{marker}'
security: {security}
"""


def new_marker() -> str:
    return RUNNER_TEMPLATE.format(uuid.uuid4().hex[:12])


def config_text(
    evidence: Path, marker: str, *, stall: int = 2, hanger_action: str = "kill"
) -> str:
    return CONFIG.format(
        evidence=evidence,
        marker=marker,
        stall=stall,
        hanger_action=hanger_action,
        security=json.dumps(_shipped_security()),
    )


def _shipped_security() -> object:
    """The shipped config's security section (JSON is YAML), so the test
    config draws no warnings."""
    return load_file(shipped_config_path()).data["security"]


def make_config(
    evidence: Path, marker: str, *, stall: int = 2, hanger_action: str = "kill"
) -> Config:
    text = config_text(evidence, marker, stall=stall, hanger_action=hanger_action)
    config, problems = validate_text(text, name="test.yaml")
    assert config is not None, problems
    return config


# The fake runner root: runs each given shell-free command as a child, and on
# SIGTERM kills its children and reaps them.
_ROOT = textwrap.dedent(
    """
    import json, signal, subprocess, sys, time
    children = [subprocess.Popen(argv) for argv in json.loads(sys.argv[1])]
    def stop(*_):
        for child in children:
            child.kill()
        for child in children:
            child.wait()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    while True:
        time.sleep(3600)
    """
)


class FakeRunner:
    """A runner root process (argv carries the marker) with job children."""

    def __init__(self, marker: str, *commands: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ROOT, json.dumps(commands), marker],
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline() == b"ready\n"

    @property
    def pid(self) -> int:
        return self.process.pid

    def children(self) -> list[int]:
        path = f"/proc/{self.pid}/task/{self.pid}/children"
        with open(path) as listing:
            return [int(word) for word in listing.read().split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        kill_session(self.pid)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextmanager
def fake_runner(marker: str, *commands: list[str]) -> Iterator[FakeRunner]:
    runner = FakeRunner(marker, *commands)
    try:
        yield runner
    finally:
        runner.stop()


def kill_session(session: int) -> None:
    """SIGKILL whatever is left in a session (orphans included)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.getsid(int(name)) == session:
                os.kill(int(name), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue


def wait_for(predicate: object, timeout: float = 20.0, step: float = 0.1) -> None:
    """Poll ``predicate()`` until true; fails the test after ``timeout``."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s: {predicate}")


def wait_for_comm(pid: int, comm: str) -> None:
    def ready() -> bool:
        stat = read_stat(pid)
        return stat is not None and stat.comm == comm

    wait_for(ready, timeout=10.0, step=0.01)


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid``, read from the children files."""
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as listing:
                children = [int(word) for word in listing.read().split()]
        except OSError:
            continue
        found.extend(children)
        stack.extend(children)
    return found


def wait_for_descendant(pid: int, comm: str) -> None:
    """Wait until a process named ``comm`` runs somewhere under ``pid``."""

    def present() -> bool:
        stats = [read_stat(child) for child in descendants(pid)]
        return any(stat is not None and stat.comm == comm for stat in stats)

    wait_for(present, timeout=10.0, step=0.02)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def sample_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in an exposition, None when absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, label_text = series.partition("{")
        if metric != name:
            continue
        found = dict(
            part.split("=", 1) for part in label_text.rstrip("}").split(",") if part
        )
        if all(found.get(k) == f'"{v}"' for k, v in labels.items()):
            return float(value)
    return None


COMMAND = str(Path(sys.executable).parent / "runner-watchdog")


class Exporter:
    """A real ``runner-watchdog serve`` on a free loopback port; its stderr
    is collected line by line."""

    def __init__(self, config: Path, *extra: str) -> None:
        import threading

        self.process = subprocess.Popen(
            [COMMAND, "serve", "--config", str(config), *extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._listening.wait(timeout=30)
        found = [line for line in self.lines if line.startswith("listening on ")]
        assert found, self.stderr
        self.url = found[0].removeprefix("listening on ").strip()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if line.startswith("listening on "):
                self._listening.set()
        self._listening.set()

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def scrape(self) -> str:
        return scrape(self.url)

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return self.process.returncode


@contextmanager
def exporter(config: Path, *extra: str) -> Iterator[Exporter]:
    served = Exporter(config, *extra)
    try:
        yield served
    finally:
        served.stop()
