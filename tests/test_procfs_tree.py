"""Walking process trees: real trees, zombies, and a fake /proc root."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.procfs import ProcessId, read_identity
from exporter.proctree import TreeSample, TreeSampler, walk_tree

_STAT_TAIL = "0 0 0 -1 0 0 0 0 0 {ut} 0 0 0 20 0 1 0 {start} 0 0 0"


def _comms(sample: TreeSample) -> list[str]:
    return sorted(member.stat.comm for member in sample.members.values())


def _settled(sampler: TreeSampler, root: ProcessId, comms: list[str]) -> TreeSample:
    """Sample until the members are ``comms`` (forks have exec'd)."""
    deadline = time.monotonic() + 10
    sample = sampler.sample(root)
    while _comms(sample) != comms and time.monotonic() < deadline:
        time.sleep(0.02)
        sample = sampler.sample(root)
    return sample


@pytest.fixture
def shell_tree() -> Iterator[ProcessId]:
    process = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 61 & wait"])
    try:
        identity = read_identity(process.pid)
        assert identity is not None
        yield identity
    finally:
        subprocess.run(["pkill", "-KILL", "-P", str(process.pid)], check=False)
        process.kill()
        process.wait()


def test_sampler_finds_every_member(shell_tree: ProcessId) -> None:
    with TreeSampler() as sampler:
        sample = _settled(sampler, shell_tree, ["sh", "sleep", "sleep"])

    assert sample.root_alive
    assert _comms(sample) == ["sh", "sleep", "sleep"]
    assert [m.pid for m in sample.children_of(shell_tree.pid)] != []
    assert sample.io_unreadable == 0


def test_sampler_can_leave_the_root_out(shell_tree: ProcessId) -> None:
    with TreeSampler(include_root=False) as sampler:
        sample = _settled(sampler, shell_tree, ["sleep", "sleep"])

    assert shell_tree not in sample.members
    assert _comms(sample) == ["sleep", "sleep"]


def test_walk_tree_matches_the_sampler(shell_tree: ProcessId) -> None:
    with TreeSampler() as sampler:
        sample = _settled(sampler, shell_tree, ["sh", "sleep", "sleep"])

    walked = {stat.identity for stat in walk_tree(shell_tree)}
    assert walked == set(sample.members)


def test_a_stale_root_identity_is_not_sampled(shell_tree: ProcessId) -> None:
    stale = ProcessId(shell_tree.pid, shell_tree.start_time + 1)
    with TreeSampler() as sampler:
        sample = sampler.sample(stale)

    assert not sample.root_alive
    assert sample.members == {}
    assert list(walk_tree(stale)) == []


_LEAVES_ZOMBIE = textwrap.dedent(
    """
    import os, time
    if os.fork() == 0:
        os._exit(0)
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_zombies_are_not_members() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _LEAVES_ZOMBIE], stdout=subprocess.PIPE
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == b"ready\n"
            root = read_identity(process.pid)
            assert root is not None
            with TreeSampler() as sampler:
                deadline = time.monotonic() + 10
                sample = sampler.sample(root)
                while not sample.zombies and time.monotonic() < deadline:
                    sample = sampler.sample(root)

            assert list(sample.members) == [root]
            assert len(sample.zombies) == 1
        finally:
            process.kill()


def _fake_process(
    root: Path, pid: int, ppid: int, *, children: str = "", io: bool = True
) -> None:
    directory = root / str(pid)
    (directory / "task" / str(pid)).mkdir(parents=True)
    tail = _STAT_TAIL.format(ut=7, start=1000 + pid)
    (directory / "stat").write_text(f"{pid} (fake {pid}) S {ppid} {tail}\n")
    (directory / "task" / str(pid) / "children").write_text(children)
    if io:
        (directory / "io").write_text("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\n")


def test_fake_proc_root_with_unreadable_io(tmp_path: Path) -> None:
    _fake_process(tmp_path, 100, 1, children="101 102 ")
    _fake_process(tmp_path, 101, 100, io=False)
    _fake_process(tmp_path, 102, 999)  # a stale listing: another parent

    with TreeSampler(str(tmp_path)) as sampler:
        sample = sampler.sample(ProcessId(100, 1100))

    assert sorted(identity.pid for identity in sample.members) == [100, 101]
    assert sample.io_unreadable == 1
    assert sample.races == 1
    assert sample.members[ProcessId(101, 1101)].stat.cpu_ticks == 7


def test_handles_of_departed_members_are_closed(tmp_path: Path) -> None:
    _fake_process(tmp_path, 100, 1, children="101 102 ")
    _fake_process(tmp_path, 101, 100)
    _fake_process(tmp_path, 102, 100)
    root = ProcessId(100, 1100)
    before = len(os.listdir("/proc/self/fd"))

    with TreeSampler(str(tmp_path)) as sampler:
        assert len(sampler.sample(root).members) == 3
        held = len(os.listdir("/proc/self/fd"))
        (tmp_path / "100" / "task" / "100" / "children").write_text("101 ")
        assert len(sampler.sample(root).members) == 2
        after_leaving = len(os.listdir("/proc/self/fd"))
    after_close = len(os.listdir("/proc/self/fd"))

    assert held - before == 3 * 3  # stat, io, children (no schedstat here)
    assert after_leaving - before == 2 * 3
    assert after_close == before
