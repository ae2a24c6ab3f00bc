"""Scenario ``burst``: many jobs stall within the same second; each stall is
counted exactly once, on /metrics and in the evidence alike.

The runner root starts N shells at once (one request, so within
milliseconds), each blocked reading a pipe nobody writes. Once all N are
counted the scenario waits two more allowances: a stall is flagged once
until the job progresses, so the count must stay N. Then the root kills
them, and each ending must be one ``unknown`` execution.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Final

from exporter.chaos.lab import Lab
from exporter.chaos.labconfig import BURST_JOB, SAMPLE_INTERVAL_SECONDS, STALL_SECONDS
from exporter.chaos.outcome import Outcome, Verdict
from exporter.chaos.scenario import ChaosSettings, Scenario
from exporter.contract import (
    COMMAND_TYPE,
    EXECUTION_STREAM,
    EXECUTIONS_TOTAL,
    RESULT,
    STALL_STREAM,
    STALLS_TOTAL,
)
from exporter.evidence import process_identity
from exporter.procfs import ProcessId

HOLD_SECONDS: Final = 2 * STALL_SECONDS + 2 * SAMPLE_INTERVAL_SECONDS
SCRAPE_EVERY_SECONDS: Final = 0.1


def _job(number: int) -> list[str]:
    # dash runs the script with $0 set to the marker: the command line
    # carries it, and `read` blocks on the root's never-written pipe.
    return ["sh", "-c", "read never", BURST_JOB.marker, str(number)]


def plan(settings: ChaosSettings) -> list[str]:
    return [
        f"start {settings.burst_jobs} jobs of type {BURST_JOB.name} (action "
        "observe) at once: shells blocked reading a pipe nobody writes",
        f"wait until {settings.burst_jobs} stalls are counted, hold "
        f"{HOLD_SECONDS} s, then end the jobs and wait for their executions",
    ]


def run(lab: Lab, settings: ChaosSettings) -> Outcome:
    count = settings.burst_jobs
    kind = {COMMAND_TYPE: BURST_JOB.name}
    started = time.monotonic()
    jobs = lab.spawn(*(_job(number) for number in range(count)))
    spawned = time.monotonic() - started
    try:
        first = lab.wait_until(
            "the first burst stall",
            lambda: lab.scrape().total(STALLS_TOTAL, **kind) >= 1,
            timeout=10 * (STALL_SECONDS + 2 * SAMPLE_INTERVAL_SECONDS),
        )
        last = lab.wait_until(
            f"all {count} burst stalls",
            lambda: lab.scrape().total(STALLS_TOTAL, **kind) >= count,
            timeout=30,
            seen=lambda: f"{lab.scrape().total(STALLS_TOTAL, **kind):g} counted",
        )
        held: list[float] = []
        lab.watch(
            "holding: no stall may be counted twice",
            HOLD_SECONDS,
            lambda: held.append(lab.scrape().total(STALLS_TOTAL, **kind)),
            SCRAPE_EVERY_SECONDS * 5,
        )
    finally:
        lab.end(jobs)
    lab.wait_until(
        f"{count} burst executions",
        lambda: lab.scrape().total(EXECUTIONS_TOTAL, **kind) >= count,
        timeout=10 * SAMPLE_INTERVAL_SECONDS + 5,
    )
    return _judge(lab, jobs, spawned, first - started, last - started, max(held))


def _judge(
    lab: Lab,
    jobs: list[ProcessId],
    spawned: float,
    first: float,
    last: float,
    held: float,
) -> Outcome:
    count = len(jobs)
    kind = {COMMAND_TYPE: BURST_JOB.name}
    exposition = lab.scrape()
    stalls = exposition.total(STALLS_TOTAL, **kind)
    executions = exposition.by(EXECUTIONS_TOTAL, [RESULT], **kind)
    names = {process_identity(job.pid, job.start_time) for job in jobs}
    stall_events = _per_process(lab, STALL_STREAM)
    execution_events = _per_process(lab, EXECUTION_STREAM)

    verdict = Verdict()
    verdict.expect(stalls == count, f"{stalls:g} stalls counted")
    verdict.expect(held == count, f"{held:g} stalls counted while holding")
    verdict.expect(
        dict(executions) == {("unknown",): count}, f"executions: {dict(executions)}"
    )
    verdict.expect(
        stall_events == Counter(names),
        f"stall events: {sum(stall_events.values())} for "
        f"{len(stall_events)} processes, {len(set(stall_events) - names)} not ours",
    )
    verdict.expect(
        execution_events == Counter(names),
        f"execution events: {sum(execution_events.values())} for "
        f"{len(execution_events)} processes",
    )
    return Outcome(
        scenario="burst",
        passed=verdict.passed,
        did=(
            f"started {count} jobs at once (within {spawned * 1000:.0f} ms) that "
            f"all stall, held {HOLD_SECONDS} s after the last was counted, "
            "then ended them"
        ),
        expected=(
            f"{count} stalls on /metrics and {count} stall events, one per job, "
            f"staying {count}; then {count} unknown executions, one event each"
        ),
        saw=verdict.saw(
            f"{stalls:g} stalls counted ({held:g} at most while holding), "
            f"{sum(stall_events.values())} stall events for {len(stall_events)} "
            f"jobs; {sum(executions.values())} executions counted, "
            f"{sum(execution_events.values())} execution events"
        ),
        detection=(
            f"first stall {first:.1f} s after the burst, all {count} by "
            f"{last:.1f} s (allowance {STALL_SECONDS} s)"
        ),
        detection_seconds=last,
        facts={
            "jobs": count,
            "spawn_seconds": round(spawned, 3),
            "stalls_counted": stalls,
            "stalls_while_holding": held,
            "stall_events": sum(stall_events.values()),
            "stall_event_processes": len(stall_events),
            "executions_counted": sum(executions.values()),
            "execution_events": sum(execution_events.values()),
            "first_seconds": round(first, 3),
            "all_seconds": round(last, 3),
        },
    )


def _per_process(lab: Lab, stream: str) -> Counter[str]:
    """Events of the burst jobs by the process they name."""
    return Counter(
        str(event.get("process"))
        for event in lab.events(stream)
        if event.get(COMMAND_TYPE) == BURST_JOB.name
    )


SCENARIO: Final = Scenario(
    name="burst",
    title="a burst of stalls within one second is counted once per job",
    plan=plan,
    run=run,
)
