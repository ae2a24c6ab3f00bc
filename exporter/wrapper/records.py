"""The evidence one run leaves: its audit decision, its execution, and its
stall and kill when it had them. Field names here are what the exporter and
the reports read back."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from exporter.commandpolicy import Decision
from exporter.contract import AUDIT_STREAM, EXECUTION_STREAM, KILL_STREAM, STALL_STREAM
from exporter.evidence.events import process_identity
from exporter.procfs import ProcessId
from exporter.wrapper.supervise import (
    CANNOT_RUN,
    EXITED,
    INTERRUPTED,
    STALLED,
    TIMED_OUT,
    WATCH_FAILED,
    Limits,
    RunOutcome,
)

# Event kinds, one per stream.
DECISION = "decision"
EXECUTION = "execution"
STALL = "stall"
KILL = "kill"


class EvidenceSink(Protocol):
    """What the wrapper needs of ``exporter.evidence.EvidenceWriter``."""

    def append(
        self, stream: str, kind: str, command_type: str, fields: Mapping[str, object]
    ) -> bool: ...


def result_of(outcome: RunOutcome) -> str:
    """success, failure, timeout or skipped (a stall kill is an auto-skip)."""
    if outcome.ending == STALLED:
        return "skipped"
    if outcome.ending == TIMED_OUT:
        return "timeout"
    if outcome.ending == EXITED and outcome.returncode == 0:
        return "success"
    return "failure"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.geteuid())


def _name(identity: ProcessId | None) -> str | None:
    return None if identity is None else process_identity(*identity)


def write_decision(
    sink: EvidenceSink, command_type: str, argv: Sequence[str], decision: Decision
) -> bool:
    return sink.append(
        AUDIT_STREAM,
        DECISION,
        command_type,
        {
            "user": _user(),
            "uid": os.geteuid(),
            "cwd": os.getcwd(),
            "argv": list(argv),
            "executable": decision.executable,
            "decision": decision.verdict,
            "rule": decision.rule,
            "detail": decision.detail,
            "wrapper_pid": os.getpid(),
        },
    )


def write_run(
    sink: EvidenceSink,
    command_type: str,
    argv: Sequence[str],
    limits: Limits,
    outcome: RunOutcome,
) -> None:
    """The execution event, then the stall and kill events it had."""
    sink.append(
        EXECUTION_STREAM,
        EXECUTION,
        command_type,
        {
            "argv": list(argv),
            "result": result_of(outcome),
            "ending": outcome.ending,
            "exit_code": outcome.exit_code,
            "command_returncode": outcome.returncode,
            "duration_seconds": round(outcome.duration_seconds, 6),
            "job": _name(outcome.command),
            "orphans_reaped": outcome.orphans_reaped,
            "signal_received": outcome.signal_received,
            "error": outcome.error or None,
            "output_lost": outcome.output_lost or None,
            "watched_by": "run",
        },
    )
    if outcome.stall is not None:
        sink.append(STALL_STREAM, STALL, command_type, _stall_fields(limits, outcome))
    if outcome.kill is not None:
        fields = outcome.kill.to_fields()
        fields["reason"] = _kill_reason(outcome.ending)
        fields["job"] = _name(outcome.command)
        sink.append(KILL_STREAM, KILL, command_type, fields)


def _stall_fields(limits: Limits, outcome: RunOutcome) -> dict[str, object]:
    assert outcome.stall is not None
    stall = outcome.stall
    fields = stall.diagnosis.to_fields()
    fields.update(
        {
            "job": _name(outcome.command),
            "action": "kill",
            "idle_seconds": round(stall.idle_seconds, 3),
            "last_progress_at": datetime.fromtimestamp(stall.last_progress_at, UTC),
            "thresholds": {
                "stall_seconds": limits.stall_seconds,
                "hard_timeout_seconds": limits.hard_timeout_seconds,
                "kill_grace_seconds": limits.kill_grace_seconds,
                "sample_interval_seconds": limits.effective_interval,
            },
            "tree": {
                "root": _name(stall.tree.root),
                "members": [_name(member) for member in sorted(stall.tree.members)],
                "zombies": [_name(zombie) for zombie in stall.tree.zombies],
                "io_unreadable": stall.tree.io_unreadable,
            },
            "watched_by": "run",
        }
    )
    return fields


def _kill_reason(ending: str) -> str:
    return {
        STALLED: "stall",
        TIMED_OUT: "hard_timeout",
        INTERRUPTED: "signal",
        WATCH_FAILED: "watch_failed",
        CANNOT_RUN: "cleanup",
    }.get(ending, "cleanup")
