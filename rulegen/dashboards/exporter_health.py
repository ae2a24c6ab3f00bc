"""The exporter-health dashboard: how long scrapes and samples take, what
the exporter watches, and every error it counts instead of raising."""

from __future__ import annotations

from exporter import contract
from rulegen import names
from rulegen.dashboards import contract_queries as q
from rulegen.dashboards import promql
from rulegen.dashboards.builder import Board, Link, Panel, Query, Row
from rulegen.spec.model import Spec

RATE_WINDOW = "$__rate_interval"
INSTANCE = "instance"  # the label Prometheus gives each scraped exporter
CONFIG_VALID_MAPPINGS = [
    {
        "type": "value",
        "options": {
            "0": {"text": "invalid: running on the last good config", "color": "red"},
            "1": {"text": "valid", "color": "green"},
        },
    }
]


def exporter_board(spec: Spec) -> Board:
    return Board(
        uid=names.exporter_dashboard_uid(spec),
        title=f"{spec.service}: exporter health",
        description=names.DASHBOARD_HEADER.format(spec=spec.file),
        tags=("rulegen", spec.service, "exporter"),
        variables=q.variables(spec),
        rows=[_timings(spec), _watched(spec), _errors(spec)],
    )


def _quantiles(spec: Spec, histogram: str) -> list[Query]:
    series = q.health_series(spec, histogram + names.BUCKET_SUFFIX)
    return [
        Query(
            promql.checked(
                f"histogram_quantile({quantile}, sum by ({INSTANCE}, "
                f"{names.BUCKET_BOUND}) (rate({series}[{RATE_WINDOW}])))"
            ),
            f"{{{{{INSTANCE}}}}} P{label}",
        )
        for quantile, label in (("0.5", "50"), ("0.99", "99"))
    ]


def _timings(spec: Spec) -> Row:
    return Row(
        "Exporter timings",
        [
            Panel(
                kind="timeseries",
                title="Scrape duration (P50, P99)",
                description=(
                    "Time rendering /metrics took; it copies numbers the sampler "
                    "already computed, so it should stay flat as jobs come and go."
                ),
                queries=_quantiles(spec, contract.SCRAPE_DURATION),
                unit="s",
            ),
            Panel(
                kind="timeseries",
                title="Sample duration (P50, P99)",
                description=(
                    "Time one pass over every watched process tree took; it grows "
                    "with the number of watched processes."
                ),
                queries=_quantiles(spec, contract.SAMPLE_DURATION),
                unit="s",
            ),
        ],
    )


def _watched(spec: Spec) -> Row:
    host = contract.HOST
    processes = q.job_series(spec, contract.WATCHED_PROCESSES)
    jobs = q.job_series(spec, contract.WATCHED_JOBS)
    memory = q.health_series(spec, contract.SELF_RESIDENT_MEMORY)
    return Row(
        "What the exporter watches",
        [
            Panel(
                kind="timeseries",
                title="Watched processes and jobs per host",
                description="Live processes and jobs of the watched runners.",
                queries=[
                    Query(
                        promql.checked(f"sum by ({host}) ({processes})"),
                        "{{host}} processes",
                    ),
                    Query(promql.checked(f"sum by ({host}) ({jobs})"), "{{host}} jobs"),
                ],
                unit="short",
                width=8,
            ),
            Panel(
                kind="timeseries",
                title="Exporter resident memory",
                description="Resident memory of each exporter process.",
                queries=[Query(promql.checked(memory), f"{{{{{INSTANCE}}}}}")],
                unit="bytes",
                width=8,
            ),
            Panel(
                kind="table",
                title="Exporter versions",
                description="How many exporters run each version.",
                queries=[
                    Query(
                        promql.checked(
                            f"count by ({contract.VERSION}) "
                            f"({q.health_series(spec, contract.BUILD_INFO)})"
                        ),
                        "exporters",
                        instant=True,
                        table=True,
                    )
                ],
                width=8,
            ),
        ],
    )


def _errors(spec: Spec) -> Row:
    sample_errors = q.health_series(spec, contract.SAMPLE_ERRORS_TOTAL)
    write_errors = q.health_series(spec, contract.EVIDENCE_WRITE_ERRORS_TOTAL)
    degraded = q.health_series(spec, contract.DEGRADED_CAPABILITY)
    valid = q.health_series(spec, contract.CONFIG_VALID)
    config_links = [
        Link(f"Runbook: {a.name}", a.runbook_url)
        for a in spec.gauge_alerts
        if a.gauge.metric == contract.CONFIG_VALID
    ]
    by_reason = f"{INSTANCE}, {contract.REASON}"
    by_stream = f"{INSTANCE}, {contract.STREAM}"
    return Row(
        "Exporter errors",
        [
            Panel(
                kind="timeseries",
                title="Sample errors by reason",
                description=(
                    "Errors while sampling, by reason "
                    f"({', '.join(contract.SAMPLE_ERROR_REASONS)}); processes "
                    "leaving are not errors."
                ),
                queries=[
                    Query(
                        promql.checked(
                            f"sum by ({by_reason}) "
                            f"(increase({sample_errors}[{RATE_WINDOW}]))"
                        ),
                        "{{instance}} {{reason}}",
                    )
                ],
                unit="short",
            ),
            Panel(
                kind="timeseries",
                title="Evidence write errors by stream",
                description=(
                    "Evidence events dropped because writing failed (disk full, "
                    "permissions); the watchdog keeps acting meanwhile."
                ),
                queries=[
                    Query(
                        promql.checked(
                            f"sum by ({by_stream}) "
                            f"(increase({write_errors}[{RATE_WINDOW}]))"
                        ),
                        "{{instance}} {{stream}}",
                    )
                ],
                unit="short",
            ),
            Panel(
                kind="stat",
                title="Config valid",
                description=(
                    "0 while a reload failed validation and the exporter runs on "
                    "its last good config."
                ),
                queries=[
                    Query(promql.checked(f"min({valid})"), "config", instant=True)
                ],
                width=8,
                height=6,
                links=config_links,
                thresholds=[("red", None), ("green", 1.0)],
                options={"mappings": CONFIG_VALID_MAPPINGS, "graphMode": "none"},
            ),
            Panel(
                kind="timeseries",
                title="Degraded capabilities",
                description=(
                    "1 while a watched process's counters of this kind cannot be "
                    f"read ({', '.join(contract.CAPABILITIES)}): stall causes are "
                    "then guessed from fewer signals."
                ),
                queries=[
                    Query(
                        promql.checked(f"max by ({contract.CAPABILITY}) ({degraded})"),
                        "{{capability}}",
                    )
                ],
                unit="short",
                width=16,
                height=6,
            ),
        ],
    )
