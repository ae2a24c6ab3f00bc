"""Scenario ``metrics``: the counters on /metrics equal the evidence events
exactly, series by series.

It adds jobs the exporter only learns of through evidence: three
``runner-watchdog run`` wrappers under the runner root (one succeeds, one
fails, one stalls and is killed by its wrapper), each counted from the
wrapper's events and never detected by the exporter itself. Then it
compares every evidence event written so far (the other scenarios' too)
with the counters:

- ``spark_runner_stalls_total`` by command type and cause: stall events;
- ``spark_runner_executions_total`` by command type and result, and the
  duration histogram's count: execution events;
- ``spark_runner_auto_skips_total`` by command type: ``skipped`` executions.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Final

from exporter.chaos.exposition import Exposition
from exporter.chaos.lab import Lab
from exporter.chaos.labconfig import JOB_KINDS, RUN_JOB, STALL_SECONDS
from exporter.chaos.outcome import Outcome, Verdict
from exporter.chaos.scenario import ChaosSettings, Scenario
from exporter.contract import (
    AUTO_SKIPS_TOTAL,
    CAUSE,
    COMMAND_TYPE,
    DURATION_FIELD,
    EXECUTION_DURATION,
    EXECUTION_STREAM,
    EXECUTIONS_TOTAL,
    OTHER_COMMAND_TYPE,
    RESULT,
    STALL_STREAM,
    STALLS_TOTAL,
)
from exporter.evidence import Record

# What each wrapped command does, and the result its execution must carry.
RUNS: Final = (
    (("true",), "success"),
    (("false",), "failure"),
    (("sleep", "300"), "skipped"),
)
SETTLE_TIMEOUT_SECONDS: Final = 20.0
Table = Counter[tuple[str, ...]]


def _wrapped(lab: Lab, command: tuple[str, ...]) -> list[str]:
    return lab.watchdog(
        "run",
        "--config",
        str(lab.config_path),
        "--type",
        RUN_JOB.name,
        "--stall",
        str(STALL_SECONDS),
        "--",
        *command,
    )


def plan(settings: ChaosSettings) -> list[str]:
    commands = ", ".join(" ".join(command) for command, _ in RUNS)
    return [
        f"start {len(RUNS)} `runner-watchdog run` wrappers under the fake runner "
        f"root ({commands}), type {RUN_JOB.name}, stall allowance {STALL_SECONDS} s",
        "compare every counter on /metrics with the evidence events",
    ]


def run(lab: Lab, settings: ChaosSettings) -> Outcome:
    runs = lab.spawn(*(_wrapped(lab, command) for command, _ in RUNS))
    lab.wait_until(
        f"the {len(runs)} wrapped runs to finish",
        lambda: len(_run_executions(lab)) >= len(runs),
        timeout=30,
        seen=lambda: f"{len(_run_executions(lab))} finished",
    )
    finished = time.monotonic()
    tables: list[tuple[str, Table, Table]] = []

    def matched() -> bool:
        tables[:] = compare(lab.scrape(), lab)
        return all(counted == recorded for _, counted, recorded in tables)

    settled = lab.wait_until(
        "the counters to match the evidence",
        matched,
        timeout=SETTLE_TIMEOUT_SECONDS,
        seen=lambda: _mismatch_text(tables),
    )
    return _judge(lab, tables, settled - finished)


def compare(exposition: Exposition, lab: Lab) -> list[tuple[str, Table, Table]]:
    """Per counter: its name, what /metrics counts, what the evidence holds."""
    stalls = lab.events(STALL_STREAM)
    executions = lab.events(EXECUTION_STREAM)
    skipped = [e for e in executions if e.get(RESULT) == "skipped"]
    timed = [e for e in executions if _duration(e) is not None]
    return [
        (
            STALLS_TOTAL,
            exposition.by(STALLS_TOTAL, [COMMAND_TYPE, CAUSE]),
            _tally(stalls, CAUSE),
        ),
        (
            EXECUTIONS_TOTAL,
            exposition.by(EXECUTIONS_TOTAL, [COMMAND_TYPE, RESULT]),
            _tally(executions, RESULT),
        ),
        (
            AUTO_SKIPS_TOTAL,
            exposition.by(AUTO_SKIPS_TOTAL, [COMMAND_TYPE]),
            _tally(skipped),
        ),
        (
            f"{EXECUTION_DURATION}_count",
            exposition.by(f"{EXECUTION_DURATION}_count", [COMMAND_TYPE]),
            _tally(timed),
        ),
    ]


def _judge(lab: Lab, tables: list[tuple[str, Table, Table]], settle: float) -> Outcome:
    results = Counter(str(e.get(RESULT)) for e in _run_executions(lab))
    wanted = Counter(result for _, result in RUNS)
    run_stalls = [e for e in lab.events(STALL_STREAM) if _is_run(e)]
    series = sum(len(counted | recorded) for _, counted, recorded in tables)
    totals = ", ".join(
        f"{name} {sum(counted.values())}={sum(recorded.values())}"
        for name, counted, recorded in tables
    )
    verdict = Verdict()
    verdict.expect(results == wanted, f"wrapped results {dict(results)}")
    verdict.expect(len(run_stalls) == 1, f"{len(run_stalls)} stall events of the runs")
    for name, counted, recorded in tables:
        verdict.expect(counted == recorded, f"{name}: {_diff(counted, recorded)}")
    return Outcome(
        scenario="metrics",
        passed=verdict.passed,
        did=(
            f"ran {len(RUNS)} jobs under `runner-watchdog run` wrappers (success, "
            "failure, stall), then compared /metrics with every evidence event"
        ),
        expected=(
            "every stall, execution, auto-skip and duration counter equal to the "
            "evidence events, series by series"
        ),
        saw=verdict.saw(f"{series} series equal; totals counted=recorded: {totals}"),
        detection=f"counters matched the evidence {settle:.1f} s after the last run",
        detection_seconds=settle,
        facts={
            "series": series,
            "run_results": dict(results),
            "totals": {
                name: [sum(counted.values()), sum(recorded.values())]
                for name, counted, recorded in tables
            },
            "mismatches": [
                name for name, counted, recorded in tables if counted != recorded
            ],
        },
    )


def _run_executions(lab: Lab) -> list[Record]:
    return [e for e in lab.events(EXECUTION_STREAM) if _is_run(e)]


def _is_run(event: Record) -> bool:
    return event.get(COMMAND_TYPE) == RUN_JOB.name


_KNOWN_TYPES: Final = frozenset(kind.name for kind in JOB_KINDS)


def _tally(events: Iterable[Record], key: str | None = None) -> Table:
    """Events by command type (as the exporter labels it) and ``key``."""
    table: Table = Counter()
    for event in events:
        kind = event.get(COMMAND_TYPE)
        label = kind if isinstance(kind, str) and kind in _KNOWN_TYPES else None
        group = (label or OTHER_COMMAND_TYPE,)
        table[group if key is None else (*group, str(event.get(key)))] += 1
    return table


def _duration(event: Record) -> float | None:
    value = event.get(DURATION_FIELD)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def _diff(counted: Table, recorded: Table) -> str:
    keys = sorted(set(counted) | set(recorded))
    return ", ".join(
        f"{'/'.join(key)} counted {counted[key]} recorded {recorded[key]}"
        for key in keys
        if counted[key] != recorded[key]
    )


def _mismatch_text(tables: list[tuple[str, Table, Table]]) -> str:
    return "; ".join(
        f"{name}: {_diff(counted, recorded)}"
        for name, counted, recorded in tables
        if counted != recorded
    )


SCENARIO: Final = Scenario(
    name="metrics",
    title="counters on /metrics equal the evidence events exactly",
    plan=plan,
    run=run,
)
