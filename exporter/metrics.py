"""The numbers ``/metrics`` shows, and the collector that shows them.

The sampling thread (and the follower of the run wrappers' evidence) count
into ``ExporterMetrics``; a scrape only copies those numbers under a lock and
renders them, so it never touches ``/proc``, never waits on a sample, and
costs the same whatever the number of watched processes.

Every counter series of a scope (each command type plus ``other``, each cause
and result) exists from the start with the value 0, so the first real event
is an increase that ``increase()`` and ``rate()`` can see.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from exporter.contract import (
    AUTO_SKIPS_TOTAL,
    BUILD_INFO,
    CAPABILITIES,
    CAPABILITY,
    CAUSE,
    CAUSES,
    CONFIG_VALID,
    DEGRADED_CAPABILITY,
    DURATION_BUCKETS,
    EVIDENCE_WRITE_ERRORS_TOTAL,
    EXECUTION_DURATION,
    EXECUTIONS_TOTAL,
    EXPORTER_LABELS,
    JOB_LABELS,
    REASON,
    RESULT,
    RESULTS,
    SAMPLE_DURATION,
    SAMPLE_ERROR_REASONS,
    SAMPLE_ERRORS_TOTAL,
    SCRAPE_DURATION,
    SELF_CPU_SECONDS,
    SELF_RESIDENT_MEMORY,
    STALLS_TOTAL,
    STREAM,
    STREAMS,
    VERSION,
    WATCHED_JOBS,
    WATCHED_PROCESSES,
)
from exporter.settings import Scope

# Bucket bounds in seconds for the exporter's own timings: a sample of a few
# thousand processes takes tens of milliseconds, a scrape about one.
SAMPLE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SCRAPE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)

JobKey = tuple[str, str, str, str]  # service, environment, host, command type


class Histogram:
    """Bucket counts of one series (not thread-safe: callers hold a lock)."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * len(self.bounds)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.count += 1
        self.total += value

    def copy(self) -> Histogram:
        twin = Histogram(self.bounds)
        twin.counts = list(self.counts)
        twin.count, twin.total = self.count, self.total
        return twin

    def cumulative(self) -> list[tuple[str, float]]:
        """(le, cumulative count) pairs ending with +Inf, as exposed."""
        pairs: list[tuple[str, float]] = []
        running = 0
        for bound, count in zip(self.bounds, self.counts, strict=True):
            running += count
            pairs.append((repr(bound), running))  # 60.0, as client_python writes
        pairs.append(("+Inf", self.count))
        return pairs


@dataclass(frozen=True)
class SampleSnapshot:
    """What the last sample saw; published whole after each sample."""

    jobs: Mapping[JobKey, int] = field(default_factory=dict)
    processes: Mapping[JobKey, int] = field(default_factory=dict)
    degraded: Mapping[str, bool] = field(default_factory=dict)
    resident_bytes: int | None = None
    cpu_seconds: float | None = None


@dataclass
class _View:
    """A consistent copy of every number, taken under the lock."""

    stalls: dict[tuple[str, ...], float]
    auto_skips: dict[tuple[str, ...], float]
    executions: dict[tuple[str, ...], float]
    durations: dict[JobKey, Histogram]
    sample_errors: dict[str, float]
    write_errors: dict[str, float]
    sample_duration: Histogram
    scrape_duration: Histogram
    snapshot: SampleSnapshot
    config_valid: bool
    exporter: tuple[str, ...]  # service, environment, host of this exporter


class ExporterMetrics:
    """Thread-safe counters and the last sample's snapshot."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._lock = threading.Lock()
        self._stalls: dict[tuple[str, ...], float] = {}
        self._auto_skips: dict[tuple[str, ...], float] = {}
        self._executions: dict[tuple[str, ...], float] = {}
        self._durations: dict[JobKey, Histogram] = {}
        self._sample_errors = dict.fromkeys(SAMPLE_ERROR_REASONS, 0.0)
        self._write_errors = dict.fromkeys(STREAMS, 0.0)
        self._sample_duration = Histogram(SAMPLE_BUCKETS)
        self._scrape_duration = Histogram(SCRAPE_BUCKETS)
        self._snapshot = SampleSnapshot()
        self._config_valid = True
        self._exporter: tuple[str, ...] = ("", "", "")

    def use_scope(self, scope: Scope) -> None:
        """Create the zero series of ``scope``; existing values are kept (a
        reload never resets a counter)."""
        with self._lock:
            self._exporter = (scope.service, scope.environment, scope.host)
            for command_type in scope.command_types:
                job = scope.job_labels(command_type)
                self._auto_skips.setdefault(job, 0.0)
                self._durations.setdefault(job, Histogram(DURATION_BUCKETS))
                for cause in CAUSES:
                    self._stalls.setdefault((*job, cause), 0.0)
                for result in RESULTS:
                    self._executions.setdefault((*job, result), 0.0)

    def count_stall(self, job: JobKey, cause: str) -> None:
        with self._lock:
            key = (*job, cause)
            self._stalls[key] = self._stalls.get(key, 0.0) + 1

    def count_auto_skip(self, job: JobKey) -> None:
        with self._lock:
            self._auto_skips[job] = self._auto_skips.get(job, 0.0) + 1

    def count_execution(
        self, job: JobKey, result: str, duration_seconds: float | None
    ) -> None:
        with self._lock:
            key = (*job, result)
            self._executions[key] = self._executions.get(key, 0.0) + 1
            if duration_seconds is not None:
                histogram = self._durations.setdefault(job, Histogram(DURATION_BUCKETS))
                histogram.observe(duration_seconds)

    def count_sample_error(self, reason: str) -> None:
        with self._lock:
            self._sample_errors[reason] = self._sample_errors.get(reason, 0.0) + 1

    def count_evidence_write_error(self, stream: str) -> None:
        with self._lock:
            self._write_errors[stream] = self._write_errors.get(stream, 0.0) + 1

    def observe_sample(self, seconds: float) -> None:
        with self._lock:
            self._sample_duration.observe(seconds)

    def observe_scrape(self, seconds: float) -> None:
        with self._lock:
            self._scrape_duration.observe(seconds)

    def publish(self, snapshot: SampleSnapshot) -> None:
        self._snapshot = snapshot  # one reference swap: atomic for readers

    def set_config_valid(self, valid: bool) -> None:
        self._config_valid = valid

    def view(self) -> _View:
        with self._lock:
            return _View(
                stalls=dict(self._stalls),
                auto_skips=dict(self._auto_skips),
                executions=dict(self._executions),
                durations={k: h.copy() for k, h in self._durations.items()},
                sample_errors=dict(self._sample_errors),
                write_errors=dict(self._write_errors),
                sample_duration=self._sample_duration.copy(),
                scrape_duration=self._scrape_duration.copy(),
                snapshot=self._snapshot,
                config_valid=self._config_valid,
                exporter=self._exporter,
            )


class ExporterCollector(Collector):
    """Yields every family of ``/metrics`` from an ``ExporterMetrics``."""

    def __init__(self, metrics: ExporterMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        view = self._metrics.view()
        yield from _job_families(view)
        yield from _health_families(view, self._metrics.version)


def _job_families(view: _View) -> Iterator[Metric]:
    yield _counter(
        STALLS_TOTAL,
        "Stalls detected, by the cause read from the stalled tree.",
        (*JOB_LABELS, CAUSE),
        view.stalls.items(),
    )
    yield _counter(
        AUTO_SKIPS_TOTAL,
        "Stalled jobs whose process tree was killed (the kill action).",
        JOB_LABELS,
        view.auto_skips.items(),
    )
    yield _counter(
        EXECUTIONS_TOTAL,
        "Finished jobs by result; unknown when the exporter only saw it end.",
        (*JOB_LABELS, RESULT),
        view.executions.items(),
    )
    durations = HistogramMetricFamily(
        EXECUTION_DURATION, "Wall-clock duration of finished jobs.", labels=JOB_LABELS
    )
    for key, histogram in sorted(view.durations.items()):
        durations.add_metric(list(key), histogram.cumulative(), histogram.total)
    yield durations
    yield _gauge(
        WATCHED_JOBS,
        "Jobs watched in the last sample.",
        JOB_LABELS,
        view.snapshot.jobs.items(),
    )
    yield _gauge(
        WATCHED_PROCESSES,
        "Live processes of the watched jobs in the last sample.",
        JOB_LABELS,
        view.snapshot.processes.items(),
    )


def _health_families(view: _View, version: str) -> Iterator[Metric]:
    """The exporter's own health; every series names the exporter (service,
    environment, host) so dashboards can filter it like the job series."""
    me = view.exporter
    yield _histogram(
        SAMPLE_DURATION, "Time one sample of every tree took.", me, view.sample_duration
    )
    yield _histogram(
        SCRAPE_DURATION, "Time rendering /metrics took.", me, view.scrape_duration
    )
    yield _counter(
        SAMPLE_ERRORS_TOTAL,
        "Errors while sampling, by reason; processes leaving are not errors.",
        (*EXPORTER_LABELS, REASON),
        [((*me, reason), value) for reason, value in view.sample_errors.items()],
    )
    degraded = [
        ((*me, capability), 1.0 if view.snapshot.degraded.get(capability) else 0.0)
        for capability in CAPABILITIES
    ]
    yield _gauge(
        DEGRADED_CAPABILITY,
        "1 while a watched process's counters of this kind cannot be read.",
        (*EXPORTER_LABELS, CAPABILITY),
        degraded,
    )
    yield _gauge(
        CONFIG_VALID,
        "1 when the last config load succeeded; 0 while a reload keeps the old one.",
        EXPORTER_LABELS,
        [(me, 1.0 if view.config_valid else 0.0)],
    )
    yield _gauge(
        BUILD_INFO,
        "The exporter's version.",
        (*EXPORTER_LABELS, VERSION),
        [((*me, version), 1.0)],
    )
    yield _counter(
        EVIDENCE_WRITE_ERRORS_TOTAL,
        "Evidence events dropped because writing failed, by stream.",
        (*EXPORTER_LABELS, STREAM),
        [((*me, stream), value) for stream, value in view.write_errors.items()],
    )
    yield from _self_families(view.snapshot, me)


def _self_families(snapshot: SampleSnapshot, me: tuple[str, ...]) -> Iterator[Metric]:
    """The exporter's memory and CPU as read by the last sample (the client
    library's process collector lists every held descriptor per scrape)."""
    if snapshot.resident_bytes is not None:
        yield _gauge(
            SELF_RESIDENT_MEMORY,
            "Resident memory of the exporter in bytes.",
            EXPORTER_LABELS,
            [(me, float(snapshot.resident_bytes))],
        )
    if snapshot.cpu_seconds is not None:
        yield _counter(
            SELF_CPU_SECONDS,
            "User and system CPU time of the exporter in seconds.",
            EXPORTER_LABELS,
            [(me, snapshot.cpu_seconds)],
        )


def _counter(
    name: str,
    documentation: str,
    labels: Sequence[str],
    values: Iterable[tuple[tuple[str, ...], float]],
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=list(labels))
    for key, value in sorted(values):
        family.add_metric(list(key), value)
    return family


def _gauge(
    name: str,
    documentation: str,
    labels: Sequence[str],
    values: Iterable[tuple[tuple[str, ...], float]],
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for key, value in sorted(values):
        family.add_metric(list(key), value)
    return family


def _histogram(
    name: str, documentation: str, me: tuple[str, ...], data: Histogram
) -> Metric:
    family = HistogramMetricFamily(name, documentation, labels=list(EXPORTER_LABELS))
    family.add_metric(list(me), data.cumulative(), data.total)
    return family
