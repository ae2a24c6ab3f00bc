"""The names the exporter promises to the outside: metrics, labels, label
values and evidence streams. Every other module imports them from here; the
rule generator's SLO spec and the dashboards are checked against them."""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "spark_runner"

# Labels every job-level series carries.
SERVICE: Final = "service"
ENVIRONMENT: Final = "environment"
HOST: Final = "host"
COMMAND_TYPE: Final = "command_type"
JOB_LABELS: Final = (SERVICE, ENVIRONMENT, HOST, COMMAND_TYPE)
# Labels the exporter's own health series carry: which exporter it is.
EXPORTER_LABELS: Final = (SERVICE, ENVIRONMENT, HOST)
RESULT: Final = "result"
CAUSE: Final = "cause"

# Bounded label values.
RESULTS: Final = ("success", "failure", "timeout", "skipped", "unknown")
CAUSES: Final = ("io_wait", "child_hang", "network", "idle")
OTHER_COMMAND_TYPE: Final = "other"

# Job-level metrics (the contract slo.yaml is written against).
EXECUTIONS_TOTAL: Final = f"{NAMESPACE}_executions_total"
STALLS_TOTAL: Final = f"{NAMESPACE}_stalls_total"
AUTO_SKIPS_TOTAL: Final = f"{NAMESPACE}_auto_skips_total"
EXECUTION_DURATION: Final = f"{NAMESPACE}_execution_duration_seconds"
# Bucket bounds in seconds; the latency SLO needs the 60 s bound.
DURATION_BUCKETS: Final = (
    1.0,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
    1800.0,
    3600.0,
)

# Evidence streams: each is ``<stream>.jsonl`` in the evidence directory.
STALL_STREAM: Final = "stall-events"
EXECUTION_STREAM: Final = "executions"
AUDIT_STREAM: Final = "audit"
KILL_STREAM: Final = "kills"
STREAMS: Final = (STALL_STREAM, EXECUTION_STREAM, AUDIT_STREAM, KILL_STREAM)
EVIDENCE_SCHEMA_VERSION: Final = 1

# The exporter's own health.
SAMPLE_DURATION: Final = f"{NAMESPACE}_sample_duration_seconds"  # histogram
SCRAPE_DURATION: Final = f"{NAMESPACE}_scrape_duration_seconds"  # histogram
WATCHED_JOBS: Final = f"{NAMESPACE}_watched_jobs"  # gauge, job labels
WATCHED_PROCESSES: Final = f"{NAMESPACE}_watched_processes"  # gauge, job labels
SAMPLE_ERRORS_TOTAL: Final = f"{NAMESPACE}_sample_errors_total"  # label: reason
DEGRADED_CAPABILITY: Final = f"{NAMESPACE}_degraded_capability"  # label: capability
CONFIG_VALID: Final = f"{NAMESPACE}_config_valid"  # gauge 1/0
BUILD_INFO: Final = f"{NAMESPACE}_build_info"  # gauge 1, label: version
EVIDENCE_WRITE_ERRORS_TOTAL: Final = f"{NAMESPACE}_evidence_write_errors_total"
REASON: Final = "reason"
CAPABILITY: Final = "capability"
STREAM: Final = "stream"
VERSION: Final = "version"
# Bounded values of the self-metric labels.
CAPABILITIES: Final = ("io", "schedstat")  # per-process counters readable
SAMPLE_ERROR_REASONS: Final = (
    "proc_read",  # /proc failed other than by a process leaving (never races)
    "evidence_record",  # a run wrapper's event the exporter cannot count
    "kill",  # a tree kill failed or left survivors
    "rotation",  # the daily or size rotation failed
    "internal",  # a sample pass raised; the next one starts afresh
)
# The exporter's own memory and CPU, under the names every exporter uses.
SELF_RESIDENT_MEMORY: Final = "process_resident_memory_bytes"
SELF_CPU_SECONDS: Final = "process_cpu_seconds_total"

# Evidence event kinds, and the fields the exporter reads from the run
# wrapper's events besides RESULT and CAUSE.
EXECUTION_KIND: Final = "execution"
STALL_KIND: Final = "stall"
KILL_KIND: Final = "kill"
DURATION_FIELD: Final = "duration_seconds"
# Events the exporter writes itself carry OBSERVER_FIELD=EXPORTER_OBSERVER;
# it follows the streams for the wrapper's events and skips its own.
OBSERVER_FIELD: Final = "observer"
EXPORTER_OBSERVER: Final = "exporter"
