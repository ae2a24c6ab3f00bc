"""The progress rules on hand-made samples: which movements count."""

from __future__ import annotations

import pytest

from exporter.procfs import IoCounters, MemberSample, ProcessId, ProcessStat
from exporter.proctree import TreeSample
from exporter.progress import OutputActivity, ProgressTracker

ROOT = ProcessId(10, 500)
QUIET = IoCounters(0, 0, 0, 0)
CHILD = ProcessId(11, 501)


def member(
    identity: ProcessId,
    *,
    cpu: int = 0,
    io: IoCounters | None = QUIET,
    wakeups: int | None = 1,
) -> MemberSample:
    stat = ProcessStat(
        pid=identity.pid,
        comm="job",
        state="S",
        ppid=1,
        utime=cpu,
        stime=0,
        cutime=0,
        cstime=0,
        num_threads=1,
        start_time=identity.start_time,
    )
    return MemberSample(stat, io, wakeups)


def tree(*members: MemberSample) -> TreeSample:
    sample = TreeSample(root=ROOT, root_alive=True)
    sample.members = {m.stat.identity: m for m in members}
    return sample


def tracker(network: bool = False) -> ProgressTracker:
    result = ProgressTracker(now=0.0, network_wait=lambda pid: network)
    result.observe(tree(member(ROOT), member(CHILD)), now=0.0)
    return result


@pytest.mark.parametrize(
    ("after", "reason"),
    [
        pytest.param(tree(member(ROOT), member(CHILD)), "", id="nothing-moved"),
        pytest.param(tree(member(ROOT), member(CHILD, cpu=1)), "cpu", id="cpu"),
        pytest.param(
            tree(member(ROOT), member(CHILD, io=IoCounters(5, 0, 0, 0))),
            "io",
            id="rchar",
        ),
        pytest.param(
            tree(member(ROOT), member(CHILD, io=IoCounters(0, 0, 0, 1))),
            "io",
            id="syscw",
        ),
        pytest.param(tree(member(ROOT)), "members", id="member-went"),
        pytest.param(
            tree(member(ROOT), member(CHILD), member(ProcessId(12, 9))),
            "members",
            id="member-came",
        ),
        pytest.param(
            tree(member(ROOT), member(CHILD, wakeups=9)), "", id="wakeup-not-network"
        ),
    ],
)
def test_what_counts_as_progress(after: TreeSample, reason: str) -> None:
    watched = tracker()
    progress = watched.observe(after, now=5.0)

    assert progress.reason == reason
    assert progress.moved is bool(reason)
    assert progress.last_progress == (5.0 if reason else 0.0)


def test_a_wakeup_on_a_socket_wait_is_progress() -> None:
    watched = tracker(network=True)
    progress = watched.observe(tree(member(ROOT), member(CHILD, wakeups=9)), now=1.0)
    assert progress.reason == "network"


def test_stall_needs_the_whole_allowance() -> None:
    watched = tracker()
    still = tree(member(ROOT), member(CHILD))
    watched.observe(still, now=4.0)

    assert not watched.stalled(now=4.9, stall_seconds=5.0)
    assert watched.stalled(now=5.0, stall_seconds=5.0)


def test_unreadable_io_is_degraded_not_movement() -> None:
    watched = ProgressTracker(now=0.0, network_wait=lambda pid: False)
    watched.observe(tree(member(ROOT, io=None), member(CHILD)), now=0.0)

    same = watched.observe(tree(member(ROOT, io=None), member(CHILD)), now=1.0)
    cpu = watched.observe(tree(member(ROOT, io=None, cpu=3), member(CHILD)), now=2.0)

    assert (same.reason, same.io_unreadable) == ("", 1)
    assert (cpu.reason, cpu.io_unreadable) == ("cpu", 1)


def writes(wchar: int) -> TreeSample:
    return tree(member(ROOT), member(CHILD, io=IoCounters(0, wchar, 0, wchar // 10)))


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        pytest.param(None, "io", id="no-relay-writes-count"),
        pytest.param(OutputActivity(100, novel=False), "", id="repeated-output"),
        pytest.param(OutputActivity(100, novel=True), "output", id="new-output"),
        pytest.param(OutputActivity(40, novel=False), "io", id="writes-beyond-output"),
    ],
)
def test_output_is_judged_by_novelty(
    output: OutputActivity | None, reason: str
) -> None:
    watched = tracker()
    assert watched.observe(writes(100), now=1.0, output=output).reason == reason


def test_output_seen_before_its_write_is_credited() -> None:
    watched = tracker()
    # The relay saw 100 bytes whose write was not yet in wchar, then wchar
    # catches up with no new output: neither sample is progress.
    first = watched.observe(writes(0), now=1.0, output=OutputActivity(100, False))
    second = watched.observe(writes(100), now=2.0, output=OutputActivity(0, False))

    assert (first.reason, second.reason) == ("", "")
