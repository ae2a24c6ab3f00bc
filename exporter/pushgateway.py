"""Push one run's execution metrics to a Prometheus Pushgateway.

For hosts where no exporter reads the evidence. A Pushgateway keeps the
last value pushed, so the counters and the duration histogram are carried
forward: the group's current values are read first and this run is added
to them, which keeps ``increase()`` meaningful across runs. A push that fails
for any reason logs one warning starting "metrics push failed:" and changes
nothing else: the command's output and exit code never depend on it.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, push_to_gateway
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from exporter.contract import (
    AUTO_SKIPS_TOTAL,
    CAUSE,
    COMMAND_TYPE,
    DURATION_BUCKETS,
    ENVIRONMENT,
    EXECUTION_DURATION,
    EXECUTIONS_TOTAL,
    HOST,
    RESULT,
    SERVICE,
    STALLS_TOTAL,
)

logger = logging.getLogger(__name__)

JOB = "runner-watchdog-run"
# Known shortcoming: two runs of one group pushing at the same moment can
# lose one increment (read, add, push is not atomic on the Pushgateway).
_Key = tuple[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True)
class PushedRun:
    service: str
    environment: str
    host: str
    command_type: str
    result: str
    duration_seconds: float
    stall_cause: str | None  # set when the run was killed as stalled

    @property
    def labels(self) -> dict[str, str]:
        return {
            SERVICE: self.service,
            ENVIRONMENT: self.environment,
            HOST: self.host,
            COMMAND_TYPE: self.command_type,
        }

    @property
    def grouping_key(self) -> dict[str, str]:
        return {
            "instance": self.host,
            ENVIRONMENT: self.environment,
            COMMAND_TYPE: self.command_type,
        }


def push_execution(url: str, run: PushedRun, *, timeout_seconds: float = 5.0) -> bool:
    """Push; True when the Pushgateway took it within ``timeout_seconds`` in
    all (a server that trickles its answer cannot hold the wrapper)."""
    failures: list[BaseException] = []
    attempt = threading.Thread(
        target=_push_or_note,
        args=(url, run, timeout_seconds, failures),
        name="pushgateway",
        daemon=True,  # left behind if it overruns; the process exits anyway
    )
    attempt.start()
    attempt.join(timeout_seconds)
    if attempt.is_alive():
        logger.warning(
            "metrics push failed: no complete answer from %s within %s s",
            url,
            timeout_seconds,
        )
        return False
    if failures:
        logger.warning("metrics push failed: %s", failures[0])
        return False
    return True


def _push_or_note(
    url: str, run: PushedRun, timeout_seconds: float, failures: list[BaseException]
) -> None:
    try:
        previous = _current_values(url, run.grouping_key, timeout_seconds)
        registry = CollectorRegistry()
        registry.register(_RunMetrics(run, previous))
        push_to_gateway(
            url,
            job=JOB,
            registry=registry,
            grouping_key=run.grouping_key,
            timeout=timeout_seconds,
        )
    except Exception as exc:  # any failure must leave the run untouched
        failures.append(exc)


def _current_values(
    url: str, grouping: Mapping[str, str], timeout_seconds: float
) -> dict[_Key, float]:
    """Our group's samples as the Pushgateway serves them now."""
    base = url if "://" in url else f"http://{url}"
    with urllib.request.urlopen(
        f"{base.rstrip('/')}/metrics", timeout=timeout_seconds
    ) as r:
        text = r.read().decode("utf-8")
    wanted = {"job": JOB, **grouping}
    values: dict[_Key, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if any(labels.get(key) != value for key, value in wanted.items()):
                continue
            # job and instance exist only as grouping labels; the others are
            # the series' own labels too.
            own = frozenset(
                (key, value)
                for key, value in labels.items()
                if key not in ("job", "instance")
            )
            values[(sample.name, own)] = sample.value
    return values


class _RunMetrics(Collector):
    """The group's previous values plus this run, as metric families."""

    def __init__(self, run: PushedRun, previous: dict[_Key, float]) -> None:
        self._run = run
        self._previous = previous

    def collect(self) -> Iterator[Metric]:
        run = self._run
        labels = run.labels
        yield self._counter(
            EXECUTIONS_TOTAL, "Executions by result.", {RESULT: run.result}
        )
        yield self._histogram(labels)
        if run.stall_cause is not None:
            yield self._counter(
                STALLS_TOTAL, "Stalls by cause.", {CAUSE: run.stall_cause}
            )
            yield self._counter(AUTO_SKIPS_TOTAL, "Stalled runs killed.", {})
        else:
            yield from self._carried(STALLS_TOTAL, "Stalls by cause.", (CAUSE,))
            yield from self._carried(AUTO_SKIPS_TOTAL, "Stalled runs killed.", ())

    def _value(self, name: str, labels: Mapping[str, str]) -> float:
        return self._previous.get((name, frozenset(labels.items())), 0.0)

    def _counter(
        self, name: str, help_text: str, extra: Mapping[str, str]
    ) -> CounterMetricFamily:
        family = _counter_family(name, help_text, extra)
        series = {**self._run.labels, **extra}
        family.add_metric(list(series.values()), self._value(name, series) + 1)
        for other in self._others(name, series):
            family.add_metric([other[key] for key in series], self._value(name, other))
        return family

    def _carried(
        self, name: str, help_text: str, extra_keys: tuple[str, ...]
    ) -> Iterator[CounterMetricFamily]:
        family = _counter_family(name, help_text, dict.fromkeys(extra_keys, ""))
        keys = [*self._run.labels, *extra_keys]
        found = [dict(labels) for (sample, labels) in self._previous if sample == name]
        for labels in found:
            family.add_metric(
                [labels.get(key, "") for key in keys], self._value(name, labels)
            )
        if found:
            yield family

    def _others(self, name: str, series: Mapping[str, str]) -> list[dict[str, str]]:
        """Other series of the same counter carried forward (other results)."""
        current = frozenset(series.items())
        return [
            dict(labels)
            for (sample, labels) in self._previous
            if sample == name and labels != current and set(dict(labels)) == set(series)
        ]

    def _histogram(self, labels: Mapping[str, str]) -> HistogramMetricFamily:
        duration = self._run.duration_seconds
        bucket_name = f"{EXECUTION_DURATION}_bucket"
        buckets = []
        for bound in (*DURATION_BUCKETS, float("inf")):
            le = "+Inf" if bound == float("inf") else str(bound)
            before = self._value(bucket_name, {**labels, "le": le})
            buckets.append((le, before + (1 if duration <= bound else 0)))
        total = self._value(f"{EXECUTION_DURATION}_sum", labels) + duration
        family = HistogramMetricFamily(
            EXECUTION_DURATION, "Execution duration in seconds.", labels=list(labels)
        )
        family.add_metric(list(labels.values()), buckets, total)
        return family


def _counter_family(
    name: str, help_text: str, extra: Mapping[str, str]
) -> CounterMetricFamily:
    labels = [SERVICE, ENVIRONMENT, HOST, COMMAND_TYPE, *extra]
    return CounterMetricFamily(name.removesuffix("_total"), help_text, labels=labels)
