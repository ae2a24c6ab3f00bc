"""Scenario ``hang``: a parent waiting on a child that never answers is
flagged as ``child_hang`` and, under the ``kill`` action, killed as a tree
with no survivor.

The job is a Python parent that sends its child (a shell) a request over a
pipe and blocks reading the answer; the shell reads the request and never
answers, after starting a ``sleep`` in a session of its own (``setsid``),
which a process-group kill would miss. Once the three are there and quiet,
the exporter must count one ``child_hang`` stall, kill all three, write a
kill event without survivors, and count one auto-skip and one ``skipped``
execution.
"""

from __future__ import annotations

import os
from typing import Final

from exporter.chaos.lab import Lab, gone, tree
from exporter.chaos.labconfig import (
    HANG_JOB,
    KILL_GRACE_SECONDS,
    SAMPLE_INTERVAL_SECONDS,
    STALL_SECONDS,
)
from exporter.chaos.outcome import Outcome, Verdict
from exporter.chaos.scenario import ChaosSettings, Scenario
from exporter.contract import (
    AUTO_SKIPS_TOTAL,
    CAUSE,
    COMMAND_TYPE,
    EXECUTIONS_TOTAL,
    KILL_STREAM,
    RESULT,
    STALL_STREAM,
    STALLS_TOTAL,
)
from exporter.evidence import Record, process_identity
from exporter.procfs import ProcessId, ProcessStat

EXPECTED_CAUSE: Final = "child_hang"
FLAG_TIMEOUT_SECONDS: Final = 10 * (STALL_SECONDS + 2 * SAMPLE_INTERVAL_SECONDS)
KILL_TIMEOUT_SECONDS: Final = 10 * (KILL_GRACE_SECONDS + 2 * SAMPLE_INTERVAL_SECONDS)
TREE_SIZE: Final = 3  # the parent, the shell, the sleep in its own session

_JOB_SOURCE: Final = '''\
"""A chaos hang job: asks its child a question that is never answered."""
import subprocess

child = subprocess.Popen(
    ["sh", "-c", "setsid sleep 300 & read request; read never"],
    stdin=subprocess.PIPE,
    stdout=subprocess.PIPE,
)
child.stdin.write(b"are you there?\\n")
child.stdin.flush()
child.stdout.readline()
'''


def plan(settings: ChaosSettings) -> list[str]:
    return [
        f"start 1 job of type {HANG_JOB.name} (action kill): a Python parent "
        "reading from a shell child that never answers, the shell holding a "
        "setsid sleep",
        "wait for the stall on /metrics, the tree's end and the kill event",
    ]


def run(lab: Lab, settings: ChaosSettings) -> Outcome:
    script = lab.script("hang_job.py", _JOB_SOURCE)
    [job] = lab.spawn(lab.python(script, HANG_JOB.marker))
    started = lab.wait_until(
        "the hang job's tree to settle",
        lambda: _settled(tree(job.pid)),
        timeout=15,
    )
    members = [stat.identity for stat in tree(job.pid)]
    lab.adopt(members)
    kind = {COMMAND_TYPE: HANG_JOB.name}

    flagged = lab.wait_until(
        "the stall on /metrics",
        lambda: lab.scrape().total(STALLS_TOTAL, **kind) >= 1,
        timeout=FLAG_TIMEOUT_SECONDS,
    )
    ended = lab.wait_until(
        "every member of the tree to be gone",
        lambda: all(gone(member) for member in members),
        timeout=KILL_TIMEOUT_SECONDS,
        seen=lambda: f"{sum(not gone(m) for m in members)} still alive",
    )
    root_name = process_identity(job.pid, job.start_time)
    lab.wait_until(
        "the kill event and the skipped execution",
        lambda: (
            bool(_kills(lab, root_name))
            and lab.scrape().total(EXECUTIONS_TOTAL, **kind, result="skipped") >= 1
        ),
        timeout=10 * SAMPLE_INTERVAL_SECONDS,
    )
    return _judge(lab, job, members, flagged - started, ended - flagged)


def _settled(members: list[ProcessStat]) -> bool:
    """All three are there and the sleep runs in a session of its own."""
    sleeps = [stat for stat in members if stat.comm == "sleep"]
    return (
        len(members) == TREE_SIZE
        and bool(sleeps)
        and os.getsid(sleeps[0].pid) == sleeps[0].pid
    )


def _kills(lab: Lab, root_name: str) -> list[Record]:
    return [e for e in lab.events(KILL_STREAM) if e.get("root") == root_name]


def _judge(
    lab: Lab,
    job: ProcessId,
    members: list[ProcessId],
    flag_seconds: float,
    kill_seconds: float,
) -> Outcome:
    exposition = lab.scrape()
    kind = {COMMAND_TYPE: HANG_JOB.name}
    causes = exposition.by(STALLS_TOTAL, [CAUSE], **kind)
    root_name = process_identity(job.pid, job.start_time)
    stalls = [e for e in lab.events(STALL_STREAM) if e.get("process") == root_name]
    [kill] = _kills(lab, root_name)
    survivors = _listed(kill.get("survivors"))
    killed = {str(member.get("process")) for member in _members(kill)}
    expected = {process_identity(m.pid, m.start_time) for m in members}
    auto_skips = exposition.total(AUTO_SKIPS_TOTAL, **kind)
    skipped = exposition.total(EXECUTIONS_TOTAL, **kind, **{RESULT: "skipped"})

    verdict = Verdict()
    verdict.expect(
        dict(causes) == {(EXPECTED_CAUSE,): 1}, f"stalls by cause: {dict(causes)}"
    )
    verdict.expect(
        [e.get(CAUSE) for e in stalls] == [EXPECTED_CAUSE],
        f"stall events: {[e.get(CAUSE) for e in stalls]}",
    )
    verdict.expect(survivors == [], f"survivors in the kill event: {survivors}")
    verdict.expect(expected <= killed, f"the kill missed {sorted(expected - killed)}")
    verdict.expect(all(gone(m) for m in members), "a member is still alive")
    verdict.expect(auto_skips == 1, f"{auto_skips:g} auto-skips counted")
    verdict.expect(skipped == 1, f"{skipped:g} skipped executions counted")
    return Outcome(
        scenario="hang",
        passed=verdict.passed,
        did=(
            f"ran a parent blocked on a never-answering child ({TREE_SIZE} processes, "
            f"one in its own session) under a {STALL_SECONDS} s allowance, action kill"
        ),
        expected=(
            f"1 stall with cause {EXPECTED_CAUSE}, the whole tree killed, "
            "no survivor, 1 auto-skip and 1 skipped execution"
        ),
        saw=verdict.saw(
            f"stalls {_causes_text(causes)}; kill event with {len(killed)} members "
            f"and {len(survivors)} survivors; "
            f"{auto_skips:g} auto-skip, {skipped:g} skipped execution"
        ),
        detection=(
            f"flagged {flag_seconds:.1f} s after the tree went quiet "
            f"(allowance {STALL_SECONDS} s), tree gone {kill_seconds:.2f} s later"
        ),
        detection_seconds=flag_seconds,
        facts={
            "cause": sorted(c for (c,) in causes),
            "members": sorted(expected),
            "killed": sorted(killed),
            "survivors": survivors,
            "auto_skips": auto_skips,
            "skipped_executions": skipped,
            "flag_seconds": round(flag_seconds, 3),
            "kill_seconds": round(kill_seconds, 3),
        },
    )


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _members(kill: Record) -> list[dict[str, object]]:
    return [m for m in _listed(kill.get("members")) if isinstance(m, dict)]


def _causes_text(causes: dict[tuple[str, ...], int]) -> str:
    return ", ".join(f"{count} {cause}" for (cause,), count in sorted(causes.items()))


SCENARIO: Final = Scenario(
    name="hang",
    title="a parent waiting on a hung child is flagged child_hang and killed whole",
    plan=plan,
    run=run,
)
