"""Run one command under watch: relay its output, sample its tree, and end
it when it stalls, outlives its hard timeout or the wrapper is signalled.

One thread does everything in a ``select`` loop: output is relayed as it
arrives, SIGCHLD and the signals that end a run (SIGHUP, SIGINT, SIGQUIT,
SIGTERM, SIGALRM: GNU ``timeout``'s set) arrive through the signal wakeup
pipe, SIGUSR1 and SIGUSR2 are passed on to the command as they come, and
the tree under the wrapper (the command, and every orphan the wrapper
adopted as a subreaper) is sampled on a fixed interval. Whatever way the
command ends, nothing it started outlives the wrapper: leftovers are killed
with the shared tree kill and reaped.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import select
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType

from exporter.cause import Diagnosis, classify
from exporter.procfs import ProcessId, raise_open_file_limit, read_identity
from exporter.proctree import TreeSample, TreeSampler
from exporter.progress import ProgressTracker
from exporter.treekill import KillReport, kill_tree
from exporter.wrapper import exitcodes
from exporter.wrapper.reaper import Reaper, become_subreaper
from exporter.wrapper.relay import OutputRelay

logger = logging.getLogger(__name__)

# How a run ended.
EXITED = "exited"
STALLED = "stalled"
TIMED_OUT = "timed_out"
INTERRUPTED = "interrupted"
NOT_FOUND = "not_found"
CANNOT_RUN = "cannot_run"
WATCH_FAILED = "watch_failed"  # the tree outgrew what the wrapper can watch

# Signals that end the run: forwarded to the command's process group, then
# the tree is cleaned up. The passed-on ones keep the run going.
ENDING_SIGNALS = (
    signal.SIGHUP,
    signal.SIGINT,
    signal.SIGQUIT,
    signal.SIGTERM,
    signal.SIGALRM,
)
PASSED_ON_SIGNALS = (signal.SIGUSR1, signal.SIGUSR2)

_SMALLEST_INTERVAL = 0.05
_INTERVALS_PER_STALL = 4  # sample at least this often within an allowance
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)
_DRAIN_SECONDS = 1.0  # reading output left in the pipes after the end
_LAST_WAIT_SECONDS = 5.0  # for a command that survived its tree kill


@dataclass(frozen=True)
class Limits:
    stall_seconds: float
    hard_timeout_seconds: float
    kill_grace_seconds: float
    sample_interval_seconds: float

    @property
    def effective_interval(self) -> float:
        """The configured interval, shortened so a short stall allowance is
        still checked several times."""
        return max(
            _SMALLEST_INTERVAL,
            min(
                self.sample_interval_seconds, self.stall_seconds / _INTERVALS_PER_STALL
            ),
        )


@dataclass(frozen=True)
class Stall:
    """What the wrapper saw when it declared the stall."""

    diagnosis: Diagnosis
    idle_seconds: float
    last_progress_at: float  # wall clock, seconds since the epoch
    tree: TreeSample


@dataclass
class RunOutcome:
    exit_code: int
    ending: str
    duration_seconds: float
    returncode: int | None = None  # the command's Popen return code
    command: ProcessId | None = None
    stall: Stall | None = None
    kill: KillReport | None = None
    orphans_reaped: int = 0
    signal_received: int | None = None
    error: str = ""
    output_lost: str = ""  # e.g. "stdout: [Errno 28] No space left on device"


def supervise(
    argv: Sequence[str], limits: Limits, *, stdout_fd: int = 1, stderr_fd: int = 2
) -> RunOutcome:
    """Run ``argv`` to its end (see the module doc); never raises for the
    command's own failures."""
    raise_open_file_limit()
    become_subreaper()
    with _SignalInbox() as inbox:
        started = time.monotonic()
        try:
            command = subprocess.Popen(
                list(argv),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            return _not_started(NOT_FOUND, exitcodes.NOT_FOUND, started, exc)
        except OSError as exc:
            return _not_started(CANNOT_RUN, exitcodes.CANNOT_RUN, started, exc)
        run = _Run(command, limits, inbox, started, stdout_fd, stderr_fd)
        return run.to_the_end()


def _not_started(ending: str, code: int, started: float, exc: OSError) -> RunOutcome:
    duration = time.monotonic() - started
    return RunOutcome(code, ending, duration, error=exc.strerror or str(exc))


class _SignalInbox:
    """SIGCHLD and the ending and passed-on signals, delivered as bytes on a
    pipe that the select loop watches."""

    def __init__(self) -> None:
        self.read_fd, self._write_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.received: list[int] = []
        self.passed_on: list[int] = []
        self._previous: dict[int, object] = {}
        self._previous_wakeup = -1

    def __enter__(self) -> _SignalInbox:
        self._previous_wakeup = signal.set_wakeup_fd(
            self._write_fd, warn_on_full_buffer=False
        )
        for signum in (signal.SIGCHLD, *ENDING_SIGNALS, *PASSED_ON_SIGNALS):
            self._previous[signum] = signal.signal(signum, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        signal.set_wakeup_fd(self._previous_wakeup)
        os.close(self.read_fd)
        os.close(self._write_fd)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        if signum in PASSED_ON_SIGNALS:
            self.passed_on.append(signum)
        elif signum != signal.SIGCHLD:
            self.received.append(signum)

    def clear(self) -> None:
        try:
            while os.read(self.read_fd, 512):
                pass
        except BlockingIOError:
            return


class _Run:
    def __init__(
        self,
        command: subprocess.Popen[bytes],
        limits: Limits,
        inbox: _SignalInbox,
        started: float,
        stdout_fd: int,
        stderr_fd: int,
    ) -> None:
        assert command.stdout is not None and command.stderr is not None
        self.command = command
        self.limits = limits
        self.inbox = inbox
        self.started = started
        self.reaper = Reaper(command)
        self.me = read_identity(os.getpid())
        self.identity = read_identity(command.pid)
        # The relay owns duplicates; Popen's file objects are closed now.
        routes = {
            os.dup(command.stdout.fileno()): stdout_fd,
            os.dup(command.stderr.fileno()): stderr_fd,
        }
        command.stdout.close()
        command.stderr.close()
        for source in routes:
            os.set_blocking(source, False)
        self.relay = OutputRelay(routes)
        self.stdout_fd, self.stderr_fd = stdout_fd, stderr_fd
        self.sampler = TreeSampler(include_root=False)
        self.tracker = ProgressTracker(started)
        self.error = ""

    def to_the_end(self) -> RunOutcome:
        try:
            try:
                ending, stall = self._watch()
                return self._finish(ending, stall)
            except BaseException:
                self._last_resort()  # a bug of ours must not leave the tree
                raise
        finally:
            self.sampler.close()
            self.relay.close()

    def _watch(self) -> tuple[str, Stall | None]:
        interval = self.limits.effective_interval
        deadline = self.started + self.limits.hard_timeout_seconds
        next_sample = self.started + interval
        while True:
            now = time.monotonic()
            wait = max(0.0, min(next_sample, deadline) - now)
            sources = self.relay.open_sources
            ready, _, _ = select.select([*sources, self.inbox.read_fd], [], [], wait)
            for source in ready:
                if source == self.inbox.read_fd:
                    self.inbox.clear()
                else:
                    self.relay.pump(source)
            self.reaper.reap()
            self._pass_on()

            if self.command.returncode is not None:
                return EXITED, None
            if self.inbox.received:
                return INTERRUPTED, None
            now = time.monotonic()
            if now >= deadline:
                return TIMED_OUT, None
            if now >= next_sample:
                try:
                    stall = self._sample(now)
                except OSError as exc:
                    if exc.errno not in _OUT_OF_DESCRIPTORS:
                        raise
                    self._overgrown(exc)
                    return WATCH_FAILED, None
                if stall is not None:
                    return STALLED, stall
                next_sample = now + interval

    def _sample(self, now: float) -> Stall | None:
        assert self.me is not None
        tree = self.sampler.sample(self.me)
        progress = self.tracker.observe(tree, now, self.relay.take_activity())
        if not self.tracker.stalled(now, self.limits.stall_seconds):
            return None
        return Stall(
            diagnosis=classify(tree),
            idle_seconds=progress.idle_seconds,
            last_progress_at=time.time() - progress.idle_seconds,
            tree=tree,
        )

    def _finish(self, ending: str, stall: Stall | None) -> RunOutcome:
        signum = self.inbox.received[0] if self.inbox.received else None
        if signum is not None:
            self._forward(signum)
        kill = self._clean_up(needed=ending != EXITED)
        self._drain()
        self.reaper.reap()
        if self.command.returncode is None:
            self._last_wait()  # only reachable when a kill left a survivor
        returncode = self.command.returncode
        lost = self._output_lost()
        exit_code = _exit_code(ending, returncode, signum)
        if lost and exit_code == 0:
            exit_code = exitcodes.WRAPPER_FAILED  # the run did not deliver it
        return RunOutcome(
            exit_code=exit_code,
            ending=ending,
            duration_seconds=time.monotonic() - self.started,
            returncode=returncode,
            command=self.identity,
            stall=stall,
            kill=kill,
            orphans_reaped=self.reaper.orphans_reaped,
            signal_received=signum,
            error=self.error,
            output_lost=lost,
        )

    def _output_lost(self) -> str:
        names = {self.stdout_fd: "stdout", self.stderr_fd: "stderr"}
        return "; ".join(
            f"{names.get(fd, fd)}: {exc}" for fd, exc in self.relay.lost.items()
        )

    def _forward(self, signum: int) -> None:
        """Pass the signal on to the command's process group, as a terminal
        would, and give the command its grace to end."""
        if self.command.returncode is None:
            try:
                os.killpg(self.command.pid, signum)  # it leads its own group
            except (ProcessLookupError, PermissionError):
                self.command.send_signal(signum)
        deadline = time.monotonic() + self.limits.kill_grace_seconds
        while self.command.returncode is None and time.monotonic() < deadline:
            self.relay.drain()
            self.reaper.reap()
            time.sleep(0.01)

    def _pass_on(self) -> None:
        """SIGUSR1 and SIGUSR2 reach the command; the run goes on."""
        while self.inbox.passed_on:
            signum = self.inbox.passed_on.pop(0)
            if self.command.returncode is None:
                self.command.send_signal(signum)

    def _overgrown(self, exc: OSError) -> None:
        """Too many members to hold their /proc descriptors: stop watching
        (freeing them for the kill that follows)."""
        self.sampler.close()
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.error = (
            f"its process tree is too large to watch within the open-file "
            f"limit ({limit}: {exc.strerror}); the tree was killed"
        )
        logger.warning("tree too large to watch open_file_limit=%d", limit)

    def _last_wait(self) -> None:
        try:
            self.command.wait(timeout=_LAST_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning("command outlived its tree kill pid=%d", self.command.pid)

    def _last_resort(self) -> None:
        """Kill the tree after an unexpected error, without raising again."""
        try:
            self.sampler.close()
            self._clean_up(needed=True)
        except Exception:  # the original error is the one to report
            logger.exception("tree kill after a wrapper error failed")

    def _clean_up(self, *, needed: bool) -> KillReport | None:
        """Kill the tree under the wrapper; after a normal exit, only when
        the command left something behind."""
        assert self.me is not None
        if not needed:
            self.reaper.reap()
            if not self.sampler.sample(self.me).members:
                return None
        report = kill_tree(
            self.me,
            self.limits.kill_grace_seconds,
            protect=set(),
            reap=self.reaper.reap,
        )
        if report.survivors:
            logger.warning("run left survivors count=%d", len(report.survivors))
        return report

    def _drain(self) -> None:
        """Relay what the pipes still hold; a survivor holding one open
        cannot keep the wrapper waiting past the drain time."""
        deadline = time.monotonic() + _DRAIN_SECONDS
        while self.relay.open_sources and time.monotonic() < deadline:
            ready, _, _ = select.select(self.relay.open_sources, [], [], 0.05)
            for source in ready:
                self.relay.pump(source)


def _exit_code(ending: str, returncode: int | None, signum: int | None) -> int:
    if ending == WATCH_FAILED:
        return exitcodes.WRAPPER_FAILED
    if ending == STALLED:
        return exitcodes.STALL_KILLED
    if ending == TIMED_OUT:
        return exitcodes.TIMED_OUT
    if ending == INTERRUPTED and signum is not None:
        return exitcodes.SIGNAL_BASE + signum
    assert returncode is not None
    return exitcodes.from_returncode(returncode)
