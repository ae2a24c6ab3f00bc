"""Cause classification from member state and wait channel, on a fake /proc
root (uninterruptible sleep and vfork cannot be staged reliably for real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.cause import classify, is_network_wait
from exporter.procfs import MemberSample, ProcessId, ProcessStat
from exporter.proctree import TreeSample


def fake(root: Path, pid: int, wchan: str, *, socket: bool = False) -> None:
    directory = root / str(pid)
    (directory / "fd").mkdir(parents=True)
    (directory / "wchan").write_text(wchan)
    (directory / "fd" / "0").symlink_to("/dev/null")
    if socket:
        (directory / "fd" / "3").symlink_to("socket:[4242]")


def member(pid: int, ppid: int, state: str) -> MemberSample:
    stat = ProcessStat(pid, f"p{pid}", state, ppid, 0, 0, 0, 0, 1, 1000 + pid)
    return MemberSample(stat, None, None)


# (pid, ppid, state, wchan, holds a socket)
Row = tuple[int, int, str, str, bool]


@pytest.mark.parametrize(
    ("rows", "cause"),
    [
        pytest.param([(1, 0, "S", "hrtimer_nanosleep", False)], "idle", id="sleep"),
        pytest.param(
            [(1, 0, "D", "folio_wait_bit_common", False)], "io_wait", id="disk"
        ),
        pytest.param(
            [(1, 0, "S", "do_wait", False), (2, 1, "S", "hrtimer_nanosleep", False)],
            "child_hang",
            id="wait-on-child",
        ),
        pytest.param(
            [
                (1, 0, "D", "wait_for_vfork_done", False),
                (2, 1, "S", "pipe_read", False),
            ],
            "child_hang",
            id="vfork-parent-is-not-io",
        ),
        pytest.param(
            [(1, 0, "S", "do_wait", False)], "idle", id="wait-without-children"
        ),
        pytest.param([(1, 0, "S", "sk_wait_data", False)], "network", id="tcp-recv"),
        pytest.param([(1, 0, "S", "inet_csk_accept", False)], "network", id="accept"),
        pytest.param(
            [(1, 0, "S", "do_epoll_wait", True)], "network", id="epoll-socket"
        ),
        pytest.param(
            [(1, 0, "S", "do_epoll_wait", False)], "idle", id="epoll-no-socket"
        ),
        pytest.param(
            [
                (1, 0, "S", "do_wait", False),
                (2, 1, "S", "unix_stream_read_generic", False),
            ],
            "network",
            id="child-on-network-wins",
        ),
        pytest.param(
            [
                (1, 0, "S", "do_wait", False),
                (2, 1, "D", "nfs_wait_bit_killable", False),
            ],
            "io_wait",
            id="child-in-io-wins",
        ),
    ],
)
def test_cause(tmp_path: Path, rows: list[Row], cause: str) -> None:
    sample = TreeSample(root=ProcessId(1, 1001), root_alive=True)
    for pid, ppid, state, wchan, socket in rows:
        fake(tmp_path, pid, wchan, socket=socket)
        sample.members[ProcessId(pid, 1000 + pid)] = member(pid, ppid, state)

    diagnosis = classify(sample, str(tmp_path))

    assert diagnosis.cause == cause
    assert [m.wchan for m in diagnosis.members] == [row[3] for row in rows]
    fields = diagnosis.to_fields()
    assert fields["cause"] == cause
    assert isinstance(fields["members"], list) and len(fields["members"]) == len(rows)


def test_is_network_wait_reads_wchan_and_sockets(tmp_path: Path) -> None:
    fake(tmp_path, 5, "poll_schedule_timeout.constprop.0", socket=True)
    fake(tmp_path, 6, "poll_schedule_timeout.constprop.0")
    fake(tmp_path, 7, "0")

    assert is_network_wait(5, str(tmp_path))
    assert not is_network_wait(6, str(tmp_path))
    assert not is_network_wait(7, str(tmp_path))
