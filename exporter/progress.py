"""Has a job moved since the last sample? When did it last move?

A job progressed when any member's CPU time (own plus reaped children's) or
character I/O counters moved, or members came or went. Zombies have exited
(the tree walk leaves them out of the members). Unreadable ``io`` is a
degraded capability: detection then rests on the other signals and never
reads the missing counters as idle.

One more signal covers the process that receives from a socket: ``recv``
moves neither CPU ticks nor ``io`` counters, but the process wakes up. Its
main thread's schedule-in count (``schedstat``, a cheaper file than
``status`` and its context-switch counts) moving counts as progress only
when the process is blocked on the network, so timer loops, sleeps and
repeated prints stay stalls.

For the run wrapper, which relays the job's output, ``OutputActivity`` says
how many bytes the members wrote to the relay and whether any of it was new:
``wchar`` explained by output is not progress by itself, new output is, and
the same lines printed again are not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from exporter.cause import is_network_wait
from exporter.procfs import MemberSample, ProcessId
from exporter.proctree import TreeSample

# Why a sample counted as progress (evidence and debugging).
START = "start"
MEMBERS = "members"
CPU = "cpu"
IO = "io"
OUTPUT = "output"
NETWORK = "network"


class OutputActivity(NamedTuple):
    """Output the members wrote to the relay since the last observation."""

    bytes_written: int
    novel: bool


@dataclass(frozen=True)
class Progress:
    """The verdict of one observation."""

    moved: bool
    reason: str  # one of the constants above, "" when nothing moved
    last_progress: float  # monotonic seconds
    idle_seconds: float
    io_unreadable: int  # members whose io could not be read


class ProgressTracker:
    """Tracks one job. ``observe`` after every tree sample; ``stalled`` says
    whether nothing moved for the allowance.

    ``network_wait(pid)`` decides whether a wakeup happened on a socket wait;
    tests and other hosts can inject their own.
    """

    def __init__(
        self, now: float, network_wait: Callable[[int], bool] = is_network_wait
    ) -> None:
        self._baseline: dict[ProcessId, MemberSample] = {}
        self._last_progress = now
        self._first = True
        self._network_wait = network_wait
        # Output bytes seen in the relay but not yet in the writers' wchar
        # (the relay is read after the tree, so a write can fall between).
        self._output_credit = 0

    @property
    def last_progress(self) -> float:
        return self._last_progress

    def observe(
        self, sample: TreeSample, now: float, output: OutputActivity | None = None
    ) -> Progress:
        if sample.unchanged and output is None and not self._first:
            reason = ""  # the baseline holds these very samples already
        else:
            reason = START if self._first else self._movement(sample.members, output)
            self._baseline = dict(sample.members)
        self._first = False
        if reason:
            self._last_progress = now
        return Progress(
            moved=bool(reason),
            reason=reason,
            last_progress=self._last_progress,
            idle_seconds=now - self._last_progress,
            io_unreadable=sample.io_unreadable,
        )

    def stalled(self, now: float, stall_seconds: float) -> bool:
        return now - self._last_progress >= stall_seconds

    def _movement(
        self, members: dict[ProcessId, MemberSample], output: OutputActivity | None
    ) -> str:
        if members.keys() != self._baseline.keys():
            self._output_credit = 0
            return MEMBERS
        if output is not None and output.novel:
            return OUTPUT

        written = 0
        writes_moved = False
        woken: list[int] = []
        for identity, now_sample in members.items():
            before = self._baseline[identity]
            if now_sample is before:
                continue  # its handle saw it had not run: nothing moved
            if now_sample.stat.cpu_ticks != before.stat.cpu_ticks:
                return CPU
            if now_sample.io is not None and before.io is not None:
                now_io, before_io = now_sample.io, before.io
                if now_io.rchar != before_io.rchar or now_io.syscr != before_io.syscr:
                    return IO
                written += now_io.wchar - before_io.wchar
                writes_moved = writes_moved or now_io.syscw != before_io.syscw
            if now_sample.wakeups != before.wakeups:
                woken.append(identity.pid)

        if self._writes_are_progress(written, writes_moved, output):
            return IO
        # Known shortcoming: schedstat is the main thread's, so a socket
        # read in another thread shows only through CPU or io counters.
        if any(self._network_wait(pid) for pid in woken):
            return NETWORK
        return ""

    def _writes_are_progress(
        self, written: int, writes_moved: bool, output: OutputActivity | None
    ) -> bool:
        """Writes count unless they are all output already judged by novelty."""
        available = self._output_credit + (output.bytes_written if output else 0)
        if available == 0:
            return written > 0 or writes_moved
        if written > available:
            self._output_credit = 0
            return True
        self._output_credit = available - written
        return False
