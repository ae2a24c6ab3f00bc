"""The run wrappers' evidence, turned into the execution, stall and
auto-skip metrics.

A job that ``runner-watchdog run`` watches reaches the metrics only through
the events its wrapper writes: the exporter never detects it itself, so it
is counted once. The follower reads the execution and stall streams as
they grow (from the moment it starts; counters begin at zero anyway) and
counts:

- an ``execution`` event by its ``result`` (observing ``duration_seconds``
  when present); a ``skipped`` result is the wrapper's stall kill, so it is
  also an auto-skip;
- a ``stall`` event by its ``cause``.

Events the exporter wrote itself (``observer: exporter``) were counted when
written and are skipped here. Label values are bounded: an unknown command
type counts as ``other``; an unknown result or cause is not counted but
recorded as a sample error. The environment label is the exporter's own:
one host runs in one environment.

A stream that cannot be read (say ``executions.jsonl`` created by root,
mode 0600) is logged once with its file and the permission missing, counted
as an ``evidence_record`` sample error on every pass that fails, and tried
again on the next. Once the file is fixed, counting resumes where it
stopped (at the end of the file, for a stream unreadable since the start).
Stall detection never waits on it.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from exporter.contract import (
    CAUSE,
    CAUSES,
    COMMAND_TYPE,
    DURATION_FIELD,
    EXECUTION_KIND,
    EXECUTION_STREAM,
    EXPORTER_OBSERVER,
    OBSERVER_FIELD,
    RESULT,
    RESULTS,
    STALL_KIND,
    STALL_STREAM,
)
from exporter.evidence import EvidenceTail, Record
from exporter.evidence.events import KIND_KEY
from exporter.evidence.permissions import read_denial
from exporter.metrics import ExporterMetrics
from exporter.settings import Scope

logger = logging.getLogger(__name__)

SKIPPED = "skipped"


class ExecutionFollower:
    """Follows one evidence directory; ``poll`` once per sample."""

    def __init__(self, directory: Path, metrics: ExporterMetrics) -> None:
        self.directory = directory
        self._metrics = metrics
        self._executions = EvidenceTail(directory, EXECUTION_STREAM)
        self._stalls = EvidenceTail(directory, STALL_STREAM)
        self._unreadable: set[str] = set()  # streams whose last poll failed

    def poll(self, scope: Scope) -> int:
        """Count the events written since the last poll; how many counted."""
        counted = 0
        for record in self._read(self._executions):
            if _foreign(record, EXECUTION_KIND):
                counted += self._execution(record, scope)
        for record in self._read(self._stalls):
            if _foreign(record, STALL_KIND):
                counted += self._stall(record, scope)
        return counted

    def close(self) -> None:
        self._executions.close()
        self._stalls.close()

    def _read(self, tail: EvidenceTail) -> list[Record]:
        """The tail's new records; none while it cannot be read."""
        try:
            records = tail.poll()
        except OSError as error:
            self._metrics.count_sample_error("evidence_record")
            if tail.stream not in self._unreadable:
                self._unreadable.add(tail.stream)
                logger.warning(
                    "evidence unreadable, retrying every pass stream=%s error=%s",
                    tail.stream,
                    _explain(error),
                )
            return []
        if tail.stream in self._unreadable:
            self._unreadable.discard(tail.stream)
            logger.info("evidence readable again stream=%s", tail.stream)
        return records

    def _execution(self, record: Record, scope: Scope) -> int:
        result = record.get(RESULT)
        if result not in RESULTS:
            return self._refuse(record, RESULT, result)
        assert isinstance(result, str)
        job = scope.job_labels(scope.command_type(record.get(COMMAND_TYPE)))
        self._metrics.count_execution(job, result, _duration(record))
        if result == SKIPPED:
            self._metrics.count_auto_skip(job)
        return 1

    def _stall(self, record: Record, scope: Scope) -> int:
        cause = record.get(CAUSE)
        if cause not in CAUSES:
            return self._refuse(record, CAUSE, cause)
        assert isinstance(cause, str)
        job = scope.job_labels(scope.command_type(record.get(COMMAND_TYPE)))
        self._metrics.count_stall(job, cause)
        return 1

    def _refuse(self, record: Record, key: str, value: object) -> int:
        logger.warning(
            "evidence event not counted kind=%s %s=%r", record.get(KIND_KEY), key, value
        )
        self._metrics.count_sample_error("evidence_record")
        return 0


def _explain(error: OSError) -> str:
    """The file and what is wrong with it, worded as the CLI words it."""
    if isinstance(error, PermissionError) and error.filename:
        return str(read_denial(error))
    return f"{error.filename}: {error.strerror or error}"


def _foreign(record: Record, kind: str) -> bool:
    """An event of ``kind`` that the exporter did not write itself."""
    return (
        record.get(KIND_KEY) == kind and record.get(OBSERVER_FIELD) != EXPORTER_OBSERVER
    )


def _duration(record: Record) -> float | None:
    value = record.get(DURATION_FIELD)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(value)
