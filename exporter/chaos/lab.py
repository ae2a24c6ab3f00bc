"""The lab every scenario runs in: a temporary directory holding the
generated config, the evidence, the logs and the job scripts; a fake
runner root; and a real exporter watching it on loopback.

Everything the lab starts is stopped when it closes, in this order: the
exporter (SIGTERM), any process a scenario adopted that still lives
(SIGKILL through a pidfd, after checking its start time), and the fake
root's whole tree with the project's own tree kill. The directory itself is
removed unless ``keep`` is set (the suite keeps it when a scenario failed).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from exporter.chaos.exposition import Exposition
from exporter.chaos.fakerunner import FakeRunner
from exporter.chaos.labconfig import config_text, new_runner_marker
from exporter.chaos.outcome import ScenarioFailed
from exporter.chaos.progress import ProgressLine
from exporter.chaos.served import ServedExporter, watchdog_command
from exporter.evidence import Record, active_path, read_events, sealed_files
from exporter.procfs import (
    ProcessId,
    ProcessStat,
    read_children,
    read_identity,
    read_stat,
)
from exporter.treekill import kill_tree

logger = logging.getLogger(__name__)

LAB_PREFIX: Final = "runner-watchdog-chaos-"
POLL_SECONDS: Final = 0.1
_CLEANUP_GRACE_SECONDS: Final = 0.5


class Lab:
    def __init__(self, directory: Path, progress: ProgressLine) -> None:
        self.directory = directory
        self.progress = progress
        self.config_path = directory / "runner.yaml"
        self.evidence_dir = directory / "evidence"
        self.job_log = directory / "jobs.log"
        self.exporter_log = directory / "exporter.log"
        self.keep = False
        self._adopted: set[ProcessId] = set()
        self._runner: FakeRunner | None = None
        self._exporter: ServedExporter | None = None

    def start(self) -> None:
        """Write the config, start the root, then the exporter: the root
        must be there first, as new roots are found by a full scan that
        runs on the first sample and then only every tenth."""
        marker = new_runner_marker()
        self.config_path.write_text(config_text(self.evidence_dir, marker))
        self.progress.step("starting the fake runner root and the exporter")
        self._runner = FakeRunner(marker, self.job_log)
        self._exporter = ServedExporter(self.config_path, self.exporter_log)
        logger.info("chaos lab ready directory=%s url=%s", self.directory, self.url)

    @property
    def url(self) -> str:
        return self._served.url

    @property
    def exporter_pid(self) -> int:
        return self._served.pid

    def spawn(self, *argvs: Sequence[str]) -> list[ProcessId]:
        """Start each command as a job under the runner root, all at once."""
        return self._root.spawn(argvs)

    def end(self, jobs: Sequence[ProcessId]) -> None:
        """SIGKILL jobs the runner root started and has not reaped."""
        self._root.end(jobs)

    def adopt(self, processes: Sequence[ProcessId]) -> None:
        """Processes to SIGKILL at close if they still live (descendants a
        tree kill could miss once reparented)."""
        self._adopted.update(processes)

    def scrape(self) -> Exposition:
        return Exposition.parse(self._served.scrape())

    def events(self, stream: str) -> list[Record]:
        """Every record of a stream: sealed files oldest first, then the
        active file."""
        paths = [
            self.evidence_dir / name.name
            for name in sealed_files(self.evidence_dir, stream)
        ]
        paths.append(active_path(self.evidence_dir, stream))
        records: list[Record] = []
        for path in paths:
            if path.exists():
                records.extend(read_events(path)[0])
        return records

    def script(self, name: str, source: str) -> Path:
        """A job script in the lab directory."""
        path = self.directory / name
        path.write_text(source)
        return path

    def python(self, script: Path, *args: str) -> list[str]:
        return [sys.executable, str(script), *args]

    def watchdog(self, *args: str) -> list[str]:
        return [watchdog_command(), *args]

    def wait_until(
        self,
        what: str,
        holds: Callable[[], bool],
        timeout: float,
        seen: Callable[[], str] | None = None,
    ) -> float:
        """Poll until ``holds()``; the monotonic time it first held. Raises
        ScenarioFailed after ``timeout`` seconds, with what was last seen."""
        deadline = time.monotonic() + timeout
        while True:
            self.progress.step(f"waiting for {what}")
            if holds():
                return time.monotonic()
            if time.monotonic() >= deadline:
                last = f"; last seen: {seen()}" if seen is not None else ""
                raise ScenarioFailed(f"no {what} within {timeout:g} s{last}")
            time.sleep(POLL_SECONDS)

    def watch(
        self, what: str, seconds: float, observe: Callable[[], None], every: float
    ) -> int:
        """Call ``observe`` every ``every`` seconds for ``seconds``; how many
        times it ran."""
        until = time.monotonic() + seconds
        runs = 0
        while time.monotonic() < until:
            left = until - time.monotonic()
            self.progress.step(f"{what} ({left:.0f} s left)")
            observe()
            runs += 1
            time.sleep(min(every, max(0.0, until - time.monotonic())))
        return runs

    def close(self) -> None:
        if self._exporter is not None:
            self._exporter.stop()
        for process in sorted(self._adopted):
            _kill_if_same(process)
        if self._runner is not None:
            self._kill_runner_tree(self._runner)

    @property
    def _served(self) -> ServedExporter:
        assert self._exporter is not None, "the lab has not started"
        return self._exporter

    @property
    def _root(self) -> FakeRunner:
        assert self._runner is not None, "the lab has not started"
        return self._runner

    def _kill_runner_tree(self, runner: FakeRunner) -> None:
        root = read_identity(runner.pid)
        if root is not None and runner.process.poll() is None:
            report = kill_tree(
                root,
                _CLEANUP_GRACE_SECONDS,
                protect={os.getpid()},
                reap=runner.process.poll,
            )
            if report.survivors:
                logger.warning(
                    "chaos cleanup left survivors count=%d", len(report.survivors)
                )
        runner.close()


@contextmanager
def open_lab(progress: ProgressLine, parent: Path | None = None) -> Iterator[Lab]:
    """A started lab; closed, and its directory removed unless kept, on exit."""
    directory = Path(tempfile.mkdtemp(prefix=LAB_PREFIX, dir=parent))
    lab = Lab(directory, progress)
    try:
        lab.start()
        yield lab
    except BaseException:
        lab.keep = True
        raise
    finally:
        lab.close()
        if not lab.keep:
            shutil.rmtree(directory, ignore_errors=True)


def gone(process: ProcessId) -> bool:
    """Whether a process has exited (absent, a zombie, or its pid reused)."""
    stat = read_stat(process.pid)
    return stat is None or stat.exited or stat.identity != process


def _kill_if_same(process: ProcessId) -> None:
    """SIGKILL ``process`` if it is still the one the lab started."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except ProcessLookupError:
        return
    try:
        if read_identity(process.pid) == process and not gone(process):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            logger.info("chaos cleanup killed process=%d", process.pid)
    finally:
        os.close(pidfd)


def tree(root: int) -> list[ProcessStat]:
    """The stat of ``root`` and every live descendant, parents first."""
    found: list[ProcessStat] = []
    stack = [root]
    while stack:
        stat = read_stat(stack.pop())
        if stat is None or stat.exited:
            continue
        found.append(stat)
        stack.extend(read_children(stat.pid, stat.num_threads))
    return found
