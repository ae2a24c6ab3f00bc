"""One pass over every watched job: find new jobs, sample each tree, judge
its progress, respond to stalls and endings, and publish what was seen.

Each job keeps its own ``TreeSampler`` (held descriptors) and
``ProgressTracker``. A job is flagged once per stall: it must progress
before it can stall (and be counted) again. A job whose root is gone (or a
zombie) has ended. The hard timeout is the run wrapper's to enforce; the
exporter only detects stalls.

``clock`` is injectable so tests can count time in samples while the
processes run in real time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from exporter.contract import OTHER_COMMAND_TYPE
from exporter.discovery import Discovery, Found
from exporter.metrics import JobKey, SampleSnapshot
from exporter.procfs import PROC_ROOT, MemberSample, ProcessId
from exporter.proctree import TreeSampler
from exporter.progress import ProgressTracker
from exporter.settings import WatchSettings
from exporter.stallresponse import SKIPPED, UNKNOWN, JobRef, StallResponder

logger = logging.getLogger(__name__)

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass
class WatchedJob:
    root: ProcessId
    command_type: str
    sampler: TreeSampler
    tracker: ProgressTracker
    members: dict[ProcessId, MemberSample] = field(default_factory=dict)
    stalled: bool = False
    killed: bool = False


@dataclass
class PassCounts:
    """What one pass saw, for the snapshot and for tests."""

    jobs: dict[str, int] = field(default_factory=dict)
    processes: dict[str, int] = field(default_factory=dict)
    io_unreadable: bool = False
    schedstat_missing: bool = False
    stalls: int = 0
    ended: int = 0
    roots: int = 0
    wrappers: int = 0
    proc_errors: int = 0


class Watcher:
    """Watches the jobs under the runner roots of one config."""

    def __init__(
        self,
        settings: WatchSettings,
        responder: StallResponder,
        proc_root: str = PROC_ROOT,
        clock: Callable[[], float] = time.monotonic,
        scan_every: int | None = None,
    ) -> None:
        self.responder = responder
        self._proc_root = proc_root
        self._clock = clock
        self._scan_every = scan_every
        self._jobs: dict[int, WatchedJob] = {}
        self._settings = settings
        self._discovery = self._new_discovery(settings)

    @property
    def jobs(self) -> dict[int, WatchedJob]:
        return self._jobs

    def reconfigure(self, settings: WatchSettings) -> None:
        """Use a new config from the next pass on. Watched jobs stay, with
        their command types; allowances come from the new config."""
        self._discovery.close()
        self._settings = settings
        self._discovery = self._new_discovery(settings)

    def sample(self) -> PassCounts:
        """One pass; see the module doc. A /proc read that fails other than
        by a process leaving is counted in ``proc_errors`` and skipped."""
        now = self._clock()
        counts = PassCounts()
        self.responder.drain()
        try:
            found = self._discovery.discover(
                {pid: job.root for pid, job in self._jobs.items()}, self._member_pids
            )
        except OSError as exc:
            logger.warning("discovery failed error=%s", exc)
            counts.proc_errors += 1
            found = Found()
        for identity, command_type in found.jobs.items():
            self._start(identity, command_type, now)
        counts.roots, counts.wrappers = found.roots, found.wrappers

        for pid, job in list(self._jobs.items()):
            try:
                alive = self._observe(job, now, counts)
            except OSError as exc:
                logger.warning("job sample failed process=%d error=%s", pid, exc)
                counts.proc_errors += 1
                continue
            if not alive:
                del self._jobs[pid]
        return counts

    def snapshot(self, counts: PassCounts) -> SampleSnapshot:
        """The gauges of one pass, a zero for every command type."""
        scope = self._settings.scope
        jobs: dict[JobKey, int] = {}
        processes: dict[JobKey, int] = {}
        for command_type in scope.command_types:
            labels = scope.job_labels(command_type)
            jobs[labels] = counts.jobs.get(command_type, 0)
            processes[labels] = counts.processes.get(command_type, 0)
        degraded = {"io": counts.io_unreadable, "schedstat": counts.schedstat_missing}
        return SampleSnapshot(jobs=jobs, processes=processes, degraded=degraded)

    def close(self) -> None:
        for job in self._jobs.values():
            job.sampler.close()
        self._jobs.clear()
        self._discovery.close()

    def _new_discovery(self, settings: WatchSettings) -> Discovery:
        config = settings.config
        if self._scan_every is None:
            return Discovery(config.runners, config.command_types, self._proc_root)
        return Discovery(
            config.runners, config.command_types, self._proc_root, self._scan_every
        )

    def _start(self, root: ProcessId, command_type: str, now: float) -> None:
        sampler = TreeSampler(self._proc_root)
        tracker = ProgressTracker(now)
        self._jobs[root.pid] = WatchedJob(root, command_type, sampler, tracker)
        logger.debug("job found process=%d command_type=%s", root.pid, command_type)

    def _observe(self, job: WatchedJob, now: float, counts: PassCounts) -> bool:
        """Sample one job and respond; False once it has ended."""
        sample = job.sampler.sample(job.root)
        if not sample.root_alive:
            self._end(job)
            counts.ended += 1
            return False
        members = job.members = sample.members
        root = members.get(job.root)
        if root is not None:
            if not sample.unchanged:  # an exec needs the root to run
                self._follow_exec(job, root)
            # schedstat is there for every process or for none (kernel build)
            counts.schedstat_missing |= root.wakeups is None
        kind = job.command_type
        counts.jobs[kind] = counts.jobs.get(kind, 0) + 1
        counts.processes[kind] = counts.processes.get(kind, 0) + len(members)

        progress = job.tracker.observe(sample, now)
        counts.io_unreadable |= progress.io_unreadable > 0
        if progress.moved:
            job.stalled = False
            return True
        allowance = self._settings.allowance(kind)
        if not job.stalled and job.tracker.stalled(now, allowance.stall_seconds):
            job.stalled = True
            counts.stalls += 1
            ref = JobRef(job.root, kind, self._labels(kind))
            job.killed |= self.responder.stalled(ref, sample, progress, allowance)
        return True

    def _follow_exec(self, job: WatchedJob, root: MemberSample) -> None:
        """A job root that execs another command takes its command type (an
        exec into something unmatched keeps the type it had)."""
        verdict = self._discovery.command_type(job.root, root.stat.comm)
        if verdict not in (job.command_type, OTHER_COMMAND_TYPE):
            job.command_type = verdict

    def _end(self, job: WatchedJob) -> None:
        job.sampler.close()
        result = SKIPPED if job.killed else UNKNOWN
        ref = JobRef(job.root, job.command_type, self._labels(job.command_type))
        self.responder.ended(ref, result, _age_seconds(job.root))

    def _labels(self, command_type: str) -> JobKey:
        scope = self._settings.scope
        return scope.job_labels(scope.command_type(command_type))

    def _member_pids(self) -> set[int]:
        return {member.pid for job in self._jobs.values() for member in job.members}


def _age_seconds(identity: ProcessId) -> float:
    """Seconds since the process started (start time counts clock ticks
    since boot); read when the exporter notices the end, so at most one
    sample interval late."""
    started = identity.start_time / _TICKS_PER_SECOND
    return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
