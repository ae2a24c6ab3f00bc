"""Kill a whole process tree so that nothing escapes: the run wrapper's and
the exporter's ``kill`` action.

1. Freeze: SIGSTOP every member, walk the tree again, stop the newcomers,
   and repeat until a walk finds no one new and every member is stopped. A
   parent that keeps forking cannot outrun this; a single snapshot-then-kill
   pass can be.
2. SIGTERM every member, then SIGCONT, so each handles its SIGTERM at once.
3. Wait up to the grace period, still walking for newcomers.
4. Freeze again, SIGKILL every member still alive, wait for them to die.

Every member is signalled through a pidfd opened after its pid was listed
and checked against its start time, so a reused pid is never signalled.
pid 1, this process, its ancestors and the ``protect`` set are never
signalled, and the walk never descends through them. A root that is pid 1
or an ancestor of this process is refused outright; a root that is this
process itself means "everything under me" (the run wrapper's case), even
when this process is pid 1 of a container.
cgroup v2's freezer would be cleaner, but most runner hosts (this one too)
have v1 or hybrid hierarchies, so the signal-based freeze is the one used.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from exporter.evidence.events import process_identity
from exporter.procfs import (
    PROC_ROOT,
    ProcessId,
    ProcessStat,
    is_gone,
    read_children,
    read_stat,
)

logger = logging.getLogger(__name__)

_POLL_SECONDS = 0.01
_FREEZE_SECONDS = 2.0  # a member in uninterruptible sleep cannot stop sooner
_KILL_WAIT_SECONDS = 2.0  # for SIGKILLed members to finish dying
_STOPPED = frozenset({"T", "t"})
_NO_PIDFD = -1  # a member signalled by pid (descriptors ran short)
_SPARE_DESCRIPTORS = 64  # kept free for reading /proc during the walk


@dataclass(frozen=True)
class SignalBatch:
    """One signal sent to several members at one moment."""

    signal: str
    at_seconds: float  # since the kill started
    delivered: tuple[ProcessId, ...]
    already_gone: tuple[ProcessId, ...]


@dataclass
class KillReport:
    root: ProcessId
    grace_seconds: float
    started_at: float  # wall clock, seconds since the epoch
    members: dict[ProcessId, str] = field(default_factory=dict)  # name per member
    signals: list[SignalBatch] = field(default_factory=list)
    survivors: list[ProcessId] = field(default_factory=list)
    duration_seconds: float = 0.0

    @property
    def killed_outright(self) -> bool:
        """Whether SIGKILL was needed (members outlived their grace)."""
        return any(batch.signal == "SIGKILL" for batch in self.signals)

    def to_fields(self) -> dict[str, object]:
        """The report as evidence fields (pids written as ``pid@start``)."""
        return {
            "root": _name(self.root),
            "grace_seconds": self.grace_seconds,
            "duration_seconds": round(self.duration_seconds, 6),
            "members": [
                {"process": _name(member), "comm": comm}
                for member, comm in sorted(self.members.items())
            ],
            "signals": [
                {
                    "signal": batch.signal,
                    "at_seconds": round(batch.at_seconds, 6),
                    "delivered": [_name(p) for p in batch.delivered],
                    "already_gone": [_name(p) for p in batch.already_gone],
                }
                for batch in self.signals
            ],
            "survivors": [_name(survivor) for survivor in self.survivors],
        }


def kill_tree(
    root: ProcessId,
    grace_seconds: float,
    *,
    protect: set[int],
    proc_root: str = PROC_ROOT,
    reap: Callable[[], object] | None = None,
) -> KillReport:
    """Kill ``root`` and every descendant; see the module doc for the steps.

    ``reap`` is called while waiting, so a parent of members (the run
    wrapper, a subreaper) can collect the zombies as they appear.
    """
    reason = refusal(root, proc_root)
    if reason:
        logger.warning("tree kill refused root=%s reason=%s", _name(root), reason)
        return KillReport(root, grace_seconds, started_at=time.time())
    killer = _TreeKiller(root, grace_seconds, protect, proc_root, reap)
    try:
        return killer.run()
    finally:
        killer.close()


def refusal(root: ProcessId, proc_root: str = PROC_ROOT) -> str:
    """Why ``root`` must not be killed at all ("" when it may be). This
    process itself may be the root: it is walked, never signalled."""
    if root.pid == os.getpid():
        return ""
    if root.pid == 1:
        return "init"
    if root.pid in ancestors(proc_root):
        return "ancestor"
    return ""


def ancestors(proc_root: str = PROC_ROOT) -> set[int]:
    """The pids from this process's parent up to pid 1."""
    found: set[int] = set()
    stat = read_stat(os.getpid(), proc_root)
    while stat is not None and stat.ppid > 0 and stat.ppid not in found:
        found.add(stat.ppid)
        stat = read_stat(stat.ppid, proc_root)
    return found


class _Target:
    __slots__ = ("comm", "identity", "pidfd")

    def __init__(self, identity: ProcessId, comm: str, pidfd: int) -> None:
        self.identity = identity
        self.comm = comm
        self.pidfd = pidfd


class _TreeKiller:
    def __init__(
        self,
        root: ProcessId,
        grace_seconds: float,
        protect: set[int],
        proc_root: str,
        reap: Callable[[], object] | None,
    ) -> None:
        self._root = root
        self._grace = grace_seconds
        self._protected = {1, os.getpid(), *ancestors(proc_root), *protect}
        self._proc_root = proc_root
        self._reap = reap or (lambda: None)
        self._targets: dict[int, _Target] = {}
        self._pidfds_left = _pidfd_budget()
        self._start = time.monotonic()
        self.report = KillReport(root, grace_seconds, started_at=time.time())

    def run(self) -> KillReport:
        self._freeze()
        self._send_all(signal.SIGTERM)
        self._send_all(signal.SIGCONT)
        self._wait_dead(self._grace, discover=True)

        if self._alive():
            self._freeze()
            self._send_all(signal.SIGKILL)
            self._wait_dead(_KILL_WAIT_SECONDS, discover=True)

        self.report.survivors = [t.identity for t in self._alive()]
        self.report.duration_seconds = time.monotonic() - self._start
        if self.report.survivors:
            logger.warning(
                "tree kill left survivors root=%s survivors=%d",
                _name(self._root),
                len(self.report.survivors),
            )
        return self.report

    def close(self) -> None:
        for target in self._targets.values():
            _close(target.pidfd)
        self._targets.clear()

    def _freeze(self) -> None:
        """Stop members until a walk finds nobody new and all are stopped."""
        deadline = time.monotonic() + _FREEZE_SECONDS
        self._send_all(signal.SIGSTOP)  # members continued after SIGTERM
        while True:
            newcomers = self._discover()
            self._send(newcomers, signal.SIGSTOP)
            if not newcomers and self._all_stopped():
                return
            if time.monotonic() >= deadline:
                logger.warning("tree freeze incomplete root=%s", _name(self._root))
                return
            time.sleep(_POLL_SECONDS / 5)

    def _discover(self) -> list[_Target]:
        """Walk from the root and from every known member (a member's
        orphans move to another parent) and adopt the newcomers."""
        newcomers: list[_Target] = []
        starts: list[tuple[int, int | None]] = [(self._root.pid, None)]
        starts.extend((pid, None) for pid in self._targets)
        visited: set[int] = set()
        while starts:
            pid, parent = starts.pop()
            if pid in visited:
                continue
            visited.add(pid)
            stat = read_stat(pid, self._proc_root)
            if stat is None or stat.exited or not self._belongs(stat, parent):
                continue
            if pid in self._protected and pid != self._root.pid:
                continue  # never signalled, never walked through
            if pid not in self._targets and pid not in self._protected:
                target = self._adopt(stat)
                if target is not None:
                    newcomers.append(target)
            children = read_children(pid, stat.num_threads, self._proc_root)
            starts.extend((child, pid) for child in children if child not in visited)
        return newcomers

    def _belongs(self, stat: ProcessStat, parent: int | None) -> bool:
        """The root and known members must be who they were; a listed child
        must still be the child of the parent that listed it."""
        if stat.pid == self._root.pid:
            return stat.identity == self._root
        known = self._targets.get(stat.pid)
        if known is not None:
            return known.identity == stat.identity
        return parent is not None and stat.ppid == parent

    def _adopt(self, stat: ProcessStat) -> _Target | None:
        """Open a pidfd, then confirm it names the process we listed."""
        pidfd = self._open_pidfd(stat.pid)
        if pidfd is None:
            return None
        again = read_stat(stat.pid, self._proc_root)
        if again is None or again.identity != stat.identity:
            _close(pidfd)
            return None
        target = _Target(stat.identity, stat.comm, pidfd)
        self._targets[stat.pid] = target
        self.report.members[stat.identity] = stat.comm
        return target

    def _open_pidfd(self, pid: int) -> int | None:
        """A pidfd on ``pid``; _NO_PIDFD once descriptors run short (a tree
        of thousands), so the walk keeps a few for reading /proc; None when
        the process is gone."""
        if self._pidfds_left <= 0:
            return _NO_PIDFD
        try:
            pidfd = os.pidfd_open(pid)
        except OSError as exc:
            if is_gone(exc):
                return None
            if exc.errno not in (errno.EMFILE, errno.ENFILE):
                raise
            self._pidfds_left = 0
            return _NO_PIDFD
        self._pidfds_left -= 1
        return pidfd

    def _send_all(self, signum: signal.Signals) -> None:
        self._send(self._alive(), signum)

    def _send(self, targets: list[_Target], signum: signal.Signals) -> None:
        if not targets:
            return
        delivered: list[ProcessId] = []
        gone: list[ProcessId] = []
        for target in targets:
            try:
                self._signal(target, signum)
                delivered.append(target.identity)
            except ProcessLookupError:
                gone.append(target.identity)
            except PermissionError:  # it changed credentials (su, sudo)
                logger.warning(
                    "tree kill not permitted member=%s", _name(target.identity)
                )
        at = time.monotonic() - self._start
        self.report.signals.append(
            SignalBatch(signum.name, at, tuple(delivered), tuple(gone))
        )

    def _signal(self, target: _Target, signum: signal.Signals) -> None:
        if target.pidfd != _NO_PIDFD:
            signal.pidfd_send_signal(target.pidfd, signum)
            return
        # Known shortcoming: without a pidfd the pid is checked against its
        # start time just before the signal; a reuse in between would be hit.
        if self._state(target) is None:
            raise ProcessLookupError(target.identity.pid)
        os.kill(target.identity.pid, signum)

    def _state(self, target: _Target) -> str | None:
        """The member's state, None once it has exited."""
        stat = read_stat(target.identity.pid, self._proc_root)
        if stat is None or stat.identity != target.identity or stat.exited:
            return None
        return stat.state

    def _alive(self) -> list[_Target]:
        return [t for t in self._targets.values() if self._state(t) is not None]

    def _all_stopped(self) -> bool:
        return all(
            self._state(target) in (None, *_STOPPED)
            for target in self._targets.values()
        )

    # Known shortcoming: during the grace period members run again; one that
    # forks and exits between two polls hands its child to init (or the
    # nearest subreaper), outside the walk. The run wrapper is that
    # subreaper and still finds it; the exporter killing a foreign tree may
    # not.
    def _wait_dead(self, seconds: float, *, discover: bool) -> None:
        deadline = time.monotonic() + seconds
        while True:
            self._reap()
            if discover:
                self._discover()
            if not self._alive() or time.monotonic() >= deadline:
                return
            time.sleep(_POLL_SECONDS)


def _pidfd_budget() -> int:
    """How many pidfds this kill may hold, leaving spare descriptors."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        in_use = _SPARE_DESCRIPTORS
    if soft == resource.RLIM_INFINITY:
        return 1 << 20
    return max(0, soft - in_use - _SPARE_DESCRIPTORS)


def _close(pidfd: int) -> None:
    if pidfd != _NO_PIDFD:
        os.close(pidfd)


def _name(identity: ProcessId) -> str:
    return process_identity(identity.pid, identity.start_time)
