"""The sampling thread: one pass every sample interval, on its own thread,
so a scrape never waits on ``/proc``.

A pass runs the watcher, counts the run wrappers' new evidence, publishes
the gauges and the exporter's own memory and CPU, and keeps the evidence
rotated: once at start, every hour, when the UTC day changes, and when an
append took a file past its size limit. Rotation (which hashes what it
seals) runs on a thread of its own.

A new config (``reconfigure``) is applied at the start of the next pass,
which starts at once, so a pass never mixes two configs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime

from exporter.evidence import EvidenceWriter, rotate
from exporter.executions import ExecutionFollower
from exporter.metrics import ExporterMetrics, SampleSnapshot
from exporter.procfs import PROC_ROOT
from exporter.settings import WatchSettings
from exporter.stallresponse import KillFunction, StallResponder
from exporter.watcher import Watcher

logger = logging.getLogger(__name__)

ROTATION_CHECK_SECONDS = 3600.0
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


class SamplingLoop:
    """Owns the watcher, the evidence writer and the follower; ``start``
    runs passes on a thread until ``stop``."""

    def __init__(
        self,
        settings: WatchSettings,
        metrics: ExporterMetrics,
        proc_root: str = PROC_ROOT,
        kill: KillFunction | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._settings = settings
        self._pending: WatchSettings | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._rotator = ThreadPoolExecutor(1, thread_name_prefix="evidence-rotate")
        self._rotation: Future[object] | None = None
        self._rotation_due_at = 0.0
        self._rotation_day: date | None = None
        self.passes = 0

        metrics.use_scope(settings.scope)
        self._writer = self._new_writer(settings)
        self._follower = ExecutionFollower(self._writer.directory, metrics)
        extra = {} if kill is None else {"kill": kill}
        responder = StallResponder(metrics, self._writer, proc_root, **extra)
        self.watcher = Watcher(settings, responder, proc_root, clock)

    @property
    def evidence(self) -> EvidenceWriter:
        """The writer in use (a reload may replace it)."""
        return self._writer

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self._thread.start()

    def reconfigure(self, settings: WatchSettings) -> None:
        self._pending = settings
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.watcher.responder.close()
        self.watcher.close()
        self._follower.close()
        self._rotator.shutdown(wait=True)
        self._writer.close()

    def run_once(self) -> None:
        """One pass; errors are logged and counted, never raised."""
        started = time.perf_counter()
        try:
            self._apply_pending()
            counts = self.watcher.sample()
            for _ in range(counts.proc_errors):
                self._metrics.count_sample_error("proc_read")
            self._follower.poll(self._settings.scope)
            self._keep_rotated()
            snapshot = self.watcher.snapshot(counts)
            self._metrics.publish(_with_self_usage(snapshot))
        except Exception:
            logger.exception("sample pass failed")
            self._metrics.count_sample_error("internal")
        finally:
            self.passes += 1
            self._metrics.observe_sample(time.perf_counter() - started)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stopping.is_set():
            self.run_once()
            interval = self._settings.sample_interval_seconds
            next_at += interval
            now = time.monotonic()
            if next_at <= now:
                next_at = now + interval  # overran: skip the missed ticks
            if self._wake.wait(next_at - now):
                self._wake.clear()
                next_at = time.monotonic()

    def _apply_pending(self) -> None:
        settings, self._pending = self._pending, None
        if settings is None:
            return
        old = self._settings
        self._metrics.use_scope(settings.scope)
        if _evidence_setup(settings) != _evidence_setup(old):
            writer = self._new_writer(settings)
            self.watcher.responder.evidence = writer
            self._writer.close()
            self._writer = writer
            self._rotation_due_at = 0.0
        if settings.config.logging.evidence_dir != old.config.logging.evidence_dir:
            self._follower.close()
            self._follower = ExecutionFollower(self._writer.directory, self._metrics)
        self.watcher.reconfigure(settings)
        self._settings = settings
        logger.info("config applied file=%s", settings.config.source)

    def _new_writer(self, settings: WatchSettings) -> EvidenceWriter:
        return EvidenceWriter(
            settings.config.logging.evidence_dir,
            settings.config.logging.rotation,
            host=settings.scope.host,
            environment=settings.environment,
            on_drop=self._metrics.count_evidence_write_error,
            seal_when_full=False,
        )

    def _keep_rotated(self) -> None:
        """Start a rotation when one is due and none is running."""
        if self._rotation is not None:
            if not self._rotation.done():
                return
            self._finish_rotation(self._rotation)
            self._rotation = None
        now = time.monotonic()
        today = datetime.now(UTC).date()
        due = (
            now >= self._rotation_due_at
            or today != self._rotation_day
            or self._writer.limit_reached
        )
        if not due:
            return
        self._writer.limit_reached = False
        self._rotation_due_at = now + ROTATION_CHECK_SECONDS
        self._rotation_day = today
        logging_settings = self._settings.config.logging
        self._rotation = self._rotator.submit(
            rotate,
            logging_settings.evidence_dir,
            logging_settings.rotation,
            None,
            wait=False,
        )

    def _finish_rotation(self, done: Future[object]) -> None:
        error = done.exception()
        if error is not None:
            logger.warning("evidence rotation failed error=%s", error)
            self._metrics.count_sample_error("rotation")


def _evidence_setup(settings: WatchSettings) -> tuple[object, ...]:
    logging_settings = settings.config.logging
    return (
        logging_settings.evidence_dir,
        logging_settings.rotation,
        settings.scope.host,
        settings.environment,
    )


def _with_self_usage(snapshot: SampleSnapshot) -> SampleSnapshot:
    """The snapshot with this process's resident memory (one read of
    ``statm``) and CPU time."""
    times = os.times()
    resident = None
    try:
        with open("/proc/self/statm", "rb") as statm:
            resident = int(statm.read().split()[1]) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        pass
    return replace(
        snapshot, resident_bytes=resident, cpu_seconds=times.user + times.system
    )
