"""Finding the work: runner roots, and the jobs among their descendants.

A runner root is a process of a configured runner agent (GitHub Actions,
GitLab Runner, ...). A full listing of ``/proc`` finds them, but only every
``scan_every`` passes; in between, each pass walks from the known roots
through ``task/<tid>/children``. Walking stops at:

- a job: a descendant whose command matches a command type (classified when
  first seen and again only when its name in ``stat`` changes, so a shell
  that execs the real command becomes a job then). Its subtree is the job's,
  sampled by the watcher, never walked here;
- a ``runner-watchdog run`` wrapper: it watches its own job and reports it
  through evidence, so the exporter neither detects nor acts on it.

Everything else under a root (a step's shell, a nested agent) is walked
through on every pass with held descriptors. ``cmdline`` is read at most once
per process and name (argument patterns need it), never while the process is
in uninterruptible sleep, where reading it can block.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field

from exporter.commandtype import COMM_LENGTH, ProcessClassifier, read_cmdline
from exporter.config.model import CommandType, RunnerAgent
from exporter.contract import OTHER_COMMAND_TYPE
from exporter.procfs import PROC_ROOT, ProcessHandle, ProcessId, ProcessStat, read_stat

logger = logging.getLogger(__name__)

# The run wrapper, recognised whatever the config's runner list says: its
# job must never be detected or counted twice.
WRAPPER_PATTERN = re.compile(r"(^|[\s/])runner-watchdog\s+run(\s|$)")
SCAN_EVERY = 10  # passes between two full listings of /proc
_KTHREADD = 2  # parent of every kernel thread

NOT_RUNNER, RUNNER, WRAPPER = "", "runner", "wrapper"


class RunnerMatcher:
    """Says whether a process is a runner agent, a run wrapper or neither;
    each verdict is kept with the name it was made for."""

    def __init__(
        self,
        runners: Sequence[RunnerAgent],
        proc_root: str = PROC_ROOT,
        cmdline: Callable[[int], list[str] | None] | None = None,
    ) -> None:
        self._names = {name[:COMM_LENGTH] for r in runners for name in r.executables}
        self._patterns = [r.argument_pattern for r in runners if r.argument_pattern]
        self._cmdline = cmdline or (lambda pid: read_cmdline(pid, proc_root))
        self._verdicts: dict[ProcessId, tuple[str, str]] = {}

    def role(self, stat: ProcessStat) -> str | None:
        """NOT_RUNNER, RUNNER or WRAPPER; None when undecidable now (the
        process sleeps uninterruptibly, so its cmdline is not read)."""
        identity = stat.identity
        known = self._verdicts.get(identity)
        if known is not None and known[0] == stat.comm:
            return known[1]
        if stat.ppid == _KTHREADD or stat.pid == _KTHREADD:
            verdict = NOT_RUNNER
        elif stat.state == "D":
            return None
        else:
            verdict = self._decide(stat)
        self._verdicts[identity] = (stat.comm, verdict)
        return verdict

    def forget(self, keep: Set[ProcessId]) -> None:
        for identity in [known for known in self._verdicts if known not in keep]:
            del self._verdicts[identity]

    def _decide(self, stat: ProcessStat) -> str:
        argv = self._cmdline(stat.pid) or []
        line = shlex.join(argv)
        if WRAPPER_PATTERN.search(line):
            return WRAPPER
        if stat.comm in self._names or any(p.search(line) for p in self._patterns):
            return RUNNER
        if argv and os.path.basename(argv[0])[:COMM_LENGTH] in self._names:
            return RUNNER
        return NOT_RUNNER


@dataclass
class Found:
    """What one pass found: jobs first seen now, and the counts of roots and
    wrappers it walked past."""

    jobs: dict[ProcessId, str] = field(default_factory=dict)
    roots: int = 0
    wrappers: int = 0


class Discovery:
    """Finds jobs under runner roots; ``discover`` once per sample."""

    def __init__(
        self,
        runners: Sequence[RunnerAgent],
        command_types: dict[str, CommandType],
        proc_root: str = PROC_ROOT,
        scan_every: int = SCAN_EVERY,
    ) -> None:
        self._proc_root = proc_root
        self._scan_every = scan_every
        self._matcher = RunnerMatcher(runners, proc_root)
        self._classifier = ProcessClassifier(command_types, proc_root)
        self._by_name = ProcessClassifier(
            command_types, proc_root, cmdline_reader=lambda pid, root: None
        )
        self._roots: dict[ProcessId, None] = {}  # an ordered set
        self._walked: dict[int, ProcessHandle] = {}  # roots and non-job members
        self._passes = 0
        self._fresh = True

    def command_type(self, identity: ProcessId, comm: str) -> str:
        """A process's command type; recomputed only when ``comm`` changed."""
        return self._classifier.classify(identity, comm)

    def discover(
        self, jobs: Mapping[int, ProcessId], job_members: Callable[[], Set[int]]
    ) -> Found:
        """Jobs not among ``jobs`` (pid to root of the jobs already watched).
        ``job_members`` lists every process the jobs hold, which the full
        scan leaves alone (a runner started inside a job is the job's)."""
        scanning = self._passes % self._scan_every == 0
        if scanning:
            self._scan(jobs.keys() | job_members())
        self._passes += 1
        # A scanning pass also re-reads every walked process in full, so an
        # orphan handed to a sleeping subreaper is found within a scan.
        self._fresh = scanning

        found = Found()
        seen: set[int] = set()
        wrappers: set[ProcessId] = set()
        for root in list(self._roots):
            if root.pid in seen:
                continue  # nested under a root walked already
            if self._walk(root, jobs, seen, wrappers, found.jobs):
                found.roots += 1
            else:
                del self._roots[root]
        self._close_unseen(seen)
        found.wrappers = len(wrappers)
        if scanning:
            kept = {handle.identity for handle in self._walked.values()}
            self._classifier.forget(kept | found.jobs.keys() | set(jobs.values()))
            self._by_name.forget(kept)
        return found

    def close(self) -> None:
        for handle in self._walked.values():
            handle.close()
        self._walked.clear()

    @property
    def roots(self) -> list[ProcessId]:
        return list(self._roots)

    @property
    def classifications(self) -> int:
        """Verdicts made so far (each process once per name it had)."""
        return self._classifier.classifications + self._by_name.classifications

    def _walk(
        self,
        root: ProcessId,
        jobs: Mapping[int, ProcessId],
        seen: set[int],
        wrappers: set[ProcessId],
        found: dict[ProcessId, str],
    ) -> bool:
        """Walk one root's tree; False when the root is gone."""
        root_stat = self._read(root.pid, expect=root, parent=None)
        if root_stat is None:
            return False
        seen.add(root.pid)
        stack = [(child, root.pid) for child in self._children(root_stat)]
        while stack:
            pid, parent = stack.pop()
            if pid in seen or pid in jobs:
                continue
            stat = self._read(pid, expect=None, parent=parent)
            if stat is None:
                continue
            seen.add(pid)
            kind = self._kind(stat)
            if kind == WRAPPER:
                wrappers.add(stat.identity)  # its handle stays: cheap next pass
            elif kind != OTHER_COMMAND_TYPE:
                found[stat.identity] = kind
                self._drop(pid)
            else:
                stack.extend((child, pid) for child in self._children(stat))
        return True

    def _kind(self, stat: ProcessStat) -> str:
        """WRAPPER, a command type, or ``other`` (walk through it)."""
        role = self._matcher.role(stat)
        if role == WRAPPER:
            return WRAPPER
        if role is None:
            # Uninterruptible sleep: its cmdline may block, so judge by name
            # alone this pass; the full verdict comes once it wakes.
            return self._by_name.classify(stat.identity, stat.comm)
        return self._classifier.classify(stat.identity, stat.comm)

    def _read(
        self, pid: int, *, expect: ProcessId | None, parent: int | None
    ) -> ProcessStat | None:
        """The stat of a walked process through its held handle, opened on
        first sight; None when gone, a zombie, or not the expected one."""
        handle = self._walked.get(pid)
        sample = handle.sample(fresh=self._fresh) if handle is not None else None
        if handle is not None and (
            sample is None or (expect is not None and handle.identity != expect)
        ):
            self._drop(pid)
            handle = sample = None
        if handle is None:
            handle = ProcessHandle.open(pid, self._proc_root, expect=expect)
            if handle is None:
                return None
            self._walked[pid] = handle
            sample = handle.sample()
        if sample is None or sample.stat.exited:
            self._drop(pid)
            return None
        if parent is not None and sample.stat.ppid != parent:
            self._drop(pid)  # a stale listing: the pid is someone else's now
            return None
        return sample.stat

    def _children(self, stat: ProcessStat) -> list[int]:
        handle = self._walked.get(stat.pid)
        if handle is None:
            return []
        return handle.children(stat, self._proc_root)

    def _drop(self, pid: int) -> None:
        handle = self._walked.pop(pid, None)
        if handle is not None:
            handle.close()

    def _close_unseen(self, seen: set[int]) -> None:
        for pid in [pid for pid in self._walked if pid not in seen]:
            self._drop(pid)

    def _scan(self, skip: Set[int]) -> None:
        """List /proc for new runner roots (and forget gone verdicts)."""
        present: set[ProcessId] = set()
        for stat in _listed(self._proc_root, skip | {os.getpid()}):
            present.add(stat.identity)
            if stat.identity in self._roots or stat.pid in self._walked:
                continue
            if self._matcher.role(stat) == RUNNER:
                self._roots[stat.identity] = None
                logger.info("runner root found process=%d comm=%s", stat.pid, stat.comm)
        self._matcher.forget(present | self._roots.keys())


def _listed(proc_root: str, skip: Set[int]) -> Iterable[ProcessStat]:
    """The stat of every live process on the host outside ``skip``."""
    try:
        names = os.listdir(proc_root)
    except OSError as exc:
        logger.warning("listing processes failed error=%s", exc)
        return
    for name in names:
        if not name.isdigit() or int(name) in skip:
            continue
        try:
            stat = read_stat(int(name), proc_root)
        except OSError:
            continue  # unreadable: not a process we could watch anyway
        if stat is not None and not stat.exited:
            yield stat
