"""What /metrics shows: the contract's series, zero from the start for every
command type, cause and result; the self-metrics; and an exposition that
the real promtool accepts."""

from __future__ import annotations

import subprocess

import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry
from serve_support import sample_value

from exporter.contract import (
    AUTO_SKIPS_TOTAL,
    BUILD_INFO,
    CAUSES,
    CONFIG_VALID,
    DEGRADED_CAPABILITY,
    EVIDENCE_WRITE_ERRORS_TOTAL,
    EXECUTION_DURATION,
    EXECUTIONS_TOTAL,
    RESULTS,
    SAMPLE_DURATION,
    SAMPLE_ERRORS_TOTAL,
    SCRAPE_DURATION,
    SELF_RESIDENT_MEMORY,
    STALLS_TOTAL,
    WATCHED_JOBS,
)
from exporter.metrics import ExporterCollector, ExporterMetrics, SampleSnapshot
from exporter.settings import Scope

SCOPE = Scope("runner", "ci", "host-1", ("test", "build", "other"))
JOB = {"service": "runner", "environment": "ci", "host": "host-1"}


def render(metrics: ExporterMetrics) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ExporterCollector(metrics))
    return generate_latest(registry).decode()


@pytest.fixture
def metrics() -> ExporterMetrics:
    metrics = ExporterMetrics("1.2.3")
    metrics.use_scope(SCOPE)
    return metrics


@pytest.mark.parametrize("command_type", SCOPE.command_types)
def test_every_counter_series_starts_at_zero(
    metrics: ExporterMetrics, command_type: str
) -> None:
    text = render(metrics)
    labels = {**JOB, "command_type": command_type}

    for cause in CAUSES:
        assert sample_value(text, STALLS_TOTAL, **labels, cause=cause) == 0
    for result in RESULTS:
        assert sample_value(text, EXECUTIONS_TOTAL, **labels, result=result) == 0
    assert sample_value(text, AUTO_SKIPS_TOTAL, **labels) == 0
    assert sample_value(text, f"{EXECUTION_DURATION}_count", **labels) == 0


def test_counts_reach_their_series(metrics: ExporterMetrics) -> None:
    job = SCOPE.job_labels("test")
    metrics.count_stall(job, "child_hang")
    metrics.count_stall(job, "child_hang")
    metrics.count_auto_skip(job)
    metrics.count_execution(job, "success", 42.0)
    metrics.count_execution(job, "unknown", 61.0)
    text = render(metrics)
    labels = {**JOB, "command_type": "test"}

    assert sample_value(text, STALLS_TOTAL, **labels, cause="child_hang") == 2
    assert sample_value(text, STALLS_TOTAL, **labels, cause="idle") == 0
    assert sample_value(text, AUTO_SKIPS_TOTAL, **labels) == 1
    assert sample_value(text, EXECUTIONS_TOTAL, **labels, result="success") == 1
    assert sample_value(text, EXECUTIONS_TOTAL, **labels, result="unknown") == 1
    bucket = f"{EXECUTION_DURATION}_bucket"
    assert sample_value(text, bucket, **labels, le="60.0") == 1
    assert sample_value(text, bucket, **labels, le="120.0") == 2
    assert sample_value(text, f"{EXECUTION_DURATION}_sum", **labels) == 103


def test_a_new_scope_keeps_the_counts_of_the_old(metrics: ExporterMetrics) -> None:
    metrics.count_stall(SCOPE.job_labels("build"), "idle")
    metrics.use_scope(Scope("runner", "ci", "host-1", ("lint", "other")))
    text = render(metrics)

    build = {**JOB, "command_type": "build"}
    lint = {**JOB, "command_type": "lint"}
    assert sample_value(text, STALLS_TOTAL, **build, cause="idle") == 1
    assert sample_value(text, STALLS_TOTAL, **lint, cause="idle") == 0


def test_health_series(metrics: ExporterMetrics) -> None:
    metrics.observe_sample(0.003)
    metrics.observe_scrape(0.0007)
    metrics.count_sample_error("proc_read")
    metrics.count_evidence_write_error("stall-events")
    metrics.set_config_valid(False)
    metrics.publish(
        SampleSnapshot(
            jobs={SCOPE.job_labels("test"): 2},
            degraded={"io": True},
            resident_bytes=12_345_678,
            cpu_seconds=1.5,
        )
    )
    text = render(metrics)

    assert sample_value(text, f"{SAMPLE_DURATION}_bucket", le="0.005") == 1
    assert sample_value(text, f"{SCRAPE_DURATION}_bucket", le="0.001") == 1
    assert sample_value(text, SAMPLE_ERRORS_TOTAL, reason="proc_read") == 1
    assert sample_value(text, SAMPLE_ERRORS_TOTAL, reason="internal") == 0
    stream = "stall-events"
    assert sample_value(text, EVIDENCE_WRITE_ERRORS_TOTAL, stream=stream) == 1
    assert sample_value(text, EVIDENCE_WRITE_ERRORS_TOTAL, stream="audit") == 0
    assert sample_value(text, CONFIG_VALID) == 0
    assert sample_value(text, BUILD_INFO, version="1.2.3") == 1
    assert sample_value(text, WATCHED_JOBS, **JOB, command_type="test") == 2
    assert sample_value(text, DEGRADED_CAPABILITY, capability="io") == 1
    assert sample_value(text, DEGRADED_CAPABILITY, capability="schedstat") == 0
    assert sample_value(text, SELF_RESIDENT_MEMORY) == 12_345_678


def test_no_default_collectors(metrics: ExporterMetrics) -> None:
    text = render(metrics)

    assert "python_gc" not in text
    assert "python_info" not in text
    assert "process_open_fds" not in text


def test_promtool_accepts_the_exposition(metrics: ExporterMetrics) -> None:
    job = SCOPE.job_labels("build")
    metrics.count_execution(job, "failure", 3.5)
    metrics.publish(SampleSnapshot(resident_bytes=1, cpu_seconds=0.25))

    checked = subprocess.run(
        ["promtool", "check", "metrics"],
        input=render(metrics),
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout + checked.stderr == ""
