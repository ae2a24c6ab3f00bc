"""What the exporter does when a job stalls or ends: evidence, counters and
the configured action.

A stall is counted, diagnosed (``exporter.cause``) and written to the stall
evidence with the tree, each member's state, the thresholds and the last
progress time. With the ``kill`` action the shared tree kill runs on a
worker thread (it waits out the grace period, which must not hold up
sampling); its report is collected by the next pass, written to the kill
evidence and counted as an auto-skip. A job that ends is counted as an
execution: ``skipped`` when the exporter killed it, ``unknown`` otherwise.

Every event written here carries ``observer: exporter``, so the follower of
the run wrappers' evidence never counts it a second time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from exporter.cause import classify
from exporter.config.model import Allowance
from exporter.contract import (
    DURATION_FIELD,
    EXECUTION_KIND,
    EXECUTION_STREAM,
    EXPORTER_OBSERVER,
    KILL_KIND,
    KILL_STREAM,
    OBSERVER_FIELD,
    STALL_KIND,
    STALL_STREAM,
)
from exporter.evidence import EvidenceWriter, process_identity
from exporter.metrics import ExporterMetrics, JobKey
from exporter.procfs import PROC_ROOT, ProcessId
from exporter.proctree import TreeSample
from exporter.progress import Progress
from exporter.treekill import KillReport, kill_tree

logger = logging.getLogger(__name__)

SKIPPED, UNKNOWN = "skipped", "unknown"
KillFunction = Callable[[ProcessId, float], KillReport]


@dataclass(frozen=True)
class JobRef:
    """The job a response is about."""

    root: ProcessId
    command_type: str
    labels: JobKey


@dataclass(frozen=True)
class _PendingKill:
    job: JobRef
    cause: str
    future: Future[KillReport]


def _shared_kill(root: ProcessId, grace_seconds: float) -> KillReport:
    return kill_tree(root, grace_seconds, protect={os.getpid()})


class StallResponder:
    """Writes evidence, counts and acts; used by the sampling thread only
    (kills run on their own threads and report back through ``drain``)."""

    def __init__(
        self,
        metrics: ExporterMetrics,
        evidence: EvidenceWriter,
        proc_root: str = PROC_ROOT,
        kill: KillFunction = _shared_kill,
    ) -> None:
        self.evidence = evidence
        self._metrics = metrics
        self._proc_root = proc_root
        self._kill = kill
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tree-kill")
        self._pending: list[_PendingKill] = []

    def stalled(
        self,
        job: JobRef,
        sample: TreeSample,
        progress: Progress,
        allowance: Allowance,
    ) -> bool:
        """Record a stall and apply the action; True when a kill started."""
        diagnosis = classify(sample, self._proc_root)
        self._metrics.count_stall(job.labels, diagnosis.cause)
        parents = {m.pid: s.stat.ppid for m, s in sample.members.items()}
        members = [
            {**state.to_fields(), "ppid": parents.get(state.pid)}
            for state in diagnosis.members
        ]
        last_progress = datetime.now(UTC) - timedelta(seconds=progress.idle_seconds)
        fields = {
            "process": process_identity(job.root.pid, job.root.start_time),
            "cause": diagnosis.cause,
            "action": allowance.action,
            "members": members,
            "thresholds": {
                "stall_seconds": allowance.stall_seconds,
                "hard_timeout_seconds": allowance.hard_timeout_seconds,
                "kill_grace_seconds": allowance.kill_grace_seconds,
                "sample_interval_seconds": allowance.sample_interval_seconds,
            },
            "last_progress": last_progress,
            "idle_seconds": round(progress.idle_seconds, 3),
            "io_unreadable": progress.io_unreadable,
        }
        self._append(STALL_STREAM, STALL_KIND, job, fields)
        logger.info(
            "job stalled process=%s command_type=%s cause=%s action=%s",
            fields["process"],
            job.command_type,
            diagnosis.cause,
            allowance.action,
        )
        if allowance.action != "kill":
            return False
        future = self._pool.submit(
            self._kill, job.root, float(allowance.kill_grace_seconds)
        )
        self._pending.append(_PendingKill(job, diagnosis.cause, future))
        return True

    def ended(self, job: JobRef, result: str, duration_seconds: float) -> None:
        """Count a job that ended and write its execution event."""
        self._metrics.count_execution(job.labels, result, duration_seconds)
        fields = {
            "process": process_identity(job.root.pid, job.root.start_time),
            "result": result,
            DURATION_FIELD: round(duration_seconds, 3),
        }
        self._append(EXECUTION_STREAM, EXECUTION_KIND, job, fields)

    def drain(self, wait: bool = False) -> None:
        """Collect finished kills (all of them with ``wait``)."""
        still: list[_PendingKill] = []
        for pending in self._pending:
            if wait or pending.future.done():
                self._finish_kill(pending)
            else:
                still.append(pending)
        self._pending = still

    @property
    def kills_pending(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        self.drain(wait=True)
        self._pool.shutdown(wait=True)

    def _finish_kill(self, pending: _PendingKill) -> None:
        job = pending.job
        try:
            report = pending.future.result()
        except Exception:
            logger.exception("tree kill failed process=%d", job.root.pid)
            self._metrics.count_sample_error("kill")
            return
        if not report.members:
            # The job ended on its own meanwhile (or was refused): nothing
            # was killed, so there is no auto-skip and no kill event.
            logger.info("tree kill found nothing to kill process=%d", job.root.pid)
            return
        fields = {**report.to_fields(), "cause": pending.cause}
        self._append(KILL_STREAM, KILL_KIND, job, fields)
        if report.survivors:
            self._metrics.count_sample_error("kill")
        else:
            self._metrics.count_auto_skip(job.labels)

    def _append(
        self, stream: str, kind: str, job: JobRef, fields: dict[str, object]
    ) -> None:
        fields[OBSERVER_FIELD] = EXPORTER_OBSERVER
        self.evidence.append(stream, kind, job.command_type, fields)
