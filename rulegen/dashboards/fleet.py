"""The fleet dashboard, over the exporter's job metrics: stalls compared
across hosts, performance per environment, and stalls and durations per
command type and cause."""

from __future__ import annotations

from exporter import contract
from rulegen import names
from rulegen.dashboards import contract_queries as q
from rulegen.dashboards import promql
from rulegen.dashboards.builder import Board, Panel, Query, Row
from rulegen.spec.model import Spec

RATE_WINDOW = "$__rate_interval"
RANGE = "$__range"
BUCKET = contract.EXECUTION_DURATION + names.BUCKET_SUFFIX
# Grafana's transformation that joins a table's queries on their labels.
MERGE = {"id": "merge", "options": {}}


def fleet_board(spec: Spec) -> Board:
    return Board(
        uid=names.fleet_dashboard_uid(spec),
        title=f"{spec.service}: stalls and performance across the fleet",
        description=names.DASHBOARD_HEADER.format(spec=spec.file),
        tags=("rulegen", spec.service, "fleet"),
        variables=q.variables(spec),
        rows=[_hosts(spec), _environments(spec), _command_types(spec)],
    )


def _increase(spec: Spec, metric: str, by: str, window: str, *extra: str) -> str:
    series = q.job_series(spec, metric, extra=extra)
    return f"sum by ({by}) (increase({series}[{window}]))"


def _ratio(bad: str, total: str) -> str:
    return promql.checked(f"{bad}\n/\n({total} > 0)")


def _stall_ratio(spec: Spec, by: str) -> str:
    stalls = _increase(spec, contract.STALLS_TOTAL, by, RATE_WINDOW)
    runs = _increase(spec, contract.EXECUTIONS_TOTAL, by, RATE_WINDOW)
    return _ratio(stalls, runs)


def _quantile(spec: Spec, quantile: str, by: str) -> str:
    buckets = f"rate({q.job_series(spec, BUCKET)}[{RATE_WINDOW}])"
    return promql.checked(
        f"histogram_quantile({quantile}, sum by ({by}, {names.BUCKET_BOUND}) "
        f"({buckets}))"
    )


def _hosts(spec: Spec) -> Row:
    host = contract.HOST
    stalls = Panel(
        kind="timeseries",
        title="Stalls per host",
        description="Stalls detected on each host per rate interval, every cause.",
        queries=[
            Query(
                promql.checked(
                    _increase(spec, contract.STALLS_TOTAL, host, RATE_WINDOW)
                ),
                "{{host}}",
            )
        ],
        unit="short",
        links=q.runbook_links(spec, contract.STALLS_TOTAL),
    )
    ratio = Panel(
        kind="timeseries",
        title="Stall ratio per host",
        description=(
            "Stalls out of executions on each host: one host far above the "
            "others points at that host (disk, network, a stuck daemon), not "
            "at the jobs."
        ),
        queries=[Query(_stall_ratio(spec, host), "{{host}}")],
        unit="percentunit",
        links=q.runbook_links(spec, contract.STALLS_TOTAL),
    )
    table = Panel(
        kind="table",
        title="Stalls per host over the time range",
        description="Stalls and executions per host over the whole time range.",
        queries=[
            Query(
                promql.checked(
                    "sort_desc("
                    + _increase(spec, contract.STALLS_TOTAL, host, RANGE)
                    + ")"
                ),
                "stalls",
                instant=True,
                table=True,
            ),
            Query(
                promql.checked(_increase(spec, contract.EXECUTIONS_TOTAL, host, RANGE)),
                "executions",
                instant=True,
                table=True,
            ),
        ],
        width=24,
        transformations=[MERGE],
    )
    return Row("Multi-host stall comparison", [stalls, ratio, table])


def _environments(spec: Spec) -> Row:
    env = contract.ENVIRONMENT
    failed = _ratio(
        _increase(
            spec,
            contract.EXECUTIONS_TOTAL,
            env,
            RATE_WINDOW,
            q.result_in(q.FAILED_RESULTS),
        ),
        _increase(spec, contract.EXECUTIONS_TOTAL, env, RATE_WINDOW, q.result_known()),
    )
    return Row(
        "Environment performance",
        [
            Panel(
                kind="timeseries",
                title="P95 execution duration by environment",
                description="95th percentile of job wall-clock time per environment.",
                queries=[Query(_quantile(spec, "0.95", env), "{{environment}}")],
                unit="s",
                width=8,
                links=q.runbook_links(spec, contract.EXECUTION_DURATION),
            ),
            Panel(
                kind="timeseries",
                title="Failure ratio by environment",
                description=(
                    f"Executions that ended {', '.join(q.FAILED_RESULTS)} out of "
                    f"those whose outcome is known (result not {q.UNKNOWN})."
                ),
                queries=[Query(failed, "{{environment}}")],
                unit="percentunit",
                width=8,
                links=q.runbook_links(spec, contract.EXECUTIONS_TOTAL),
            ),
            Panel(
                kind="timeseries",
                title="Stall ratio by environment",
                description="Stalls out of executions per environment.",
                queries=[Query(_stall_ratio(spec, env), "{{environment}}")],
                unit="percentunit",
                width=8,
                links=q.runbook_links(spec, contract.STALLS_TOTAL),
            ),
        ],
    )


def _command_types(spec: Spec) -> Row:
    by = f"{contract.COMMAND_TYPE}, {contract.CAUSE}"
    stalls = _increase(spec, contract.STALLS_TOTAL, by, RATE_WINDOW)
    skips = _increase(
        spec, contract.AUTO_SKIPS_TOTAL, contract.COMMAND_TYPE, RATE_WINDOW
    )
    return Row(
        "Command-type analysis",
        [
            Panel(
                kind="timeseries",
                title="Stalls by cause and command type",
                description=(
                    "Stalls per rate interval by the cause read from the stalled "
                    f"tree ({', '.join(contract.CAUSES)}) and command type."
                ),
                queries=[Query(promql.checked(stalls), "{{command_type}} {{cause}}")],
                unit="short",
                options={
                    "stacking": {"mode": "normal", "group": "A"},
                    "fillOpacity": 30,
                },
                links=q.runbook_links(spec, contract.STALLS_TOTAL),
            ),
            Panel(
                kind="table",
                title="Stalls by cause and command type over the time range",
                description="Which command types stall, and why, over the range.",
                queries=[
                    Query(
                        promql.checked(
                            "sort_desc("
                            + _increase(spec, contract.STALLS_TOTAL, by, RANGE)
                            + ")"
                        ),
                        "stalls",
                        instant=True,
                        table=True,
                    )
                ],
            ),
            Panel(
                kind="timeseries",
                title="Execution duration by command type (P50, P95)",
                description="Median and 95th percentile job duration per command type.",
                queries=[
                    Query(
                        _quantile(spec, "0.5", contract.COMMAND_TYPE),
                        "{{command_type}} P50",
                    ),
                    Query(
                        _quantile(spec, "0.95", contract.COMMAND_TYPE),
                        "{{command_type}} P95",
                    ),
                ],
                unit="s",
            ),
            Panel(
                kind="timeseries",
                title="Auto-skips by command type",
                description="Stalled jobs killed by the watchdog (the kill action).",
                queries=[Query(promql.checked(skips), "{{command_type}}")],
                unit="short",
                links=q.runbook_links(spec, contract.AUTO_SKIPS_TOTAL),
            ),
        ],
    )
