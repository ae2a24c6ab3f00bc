"""Walk one process tree from its root through ``task/<tid>/children``.

``TreeSampler`` keeps a ``ProcessHandle`` per member between samples, so each
member costs a few ``pread`` calls; handles of members that left are closed.
Every child is identity-checked: a pid listed under a parent must still name
a process whose parent is that parent, otherwise the listing was stale and
the pid now belongs to someone else.

A member that has not run since the last walk is not re-read (its handle
says so from ``schedstat``). The one change such a member can undergo is
gaining orphans as a child subreaper, which needs another member to exit:
so after a walk whose members changed, the next walk reads everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from exporter.procfs import (
    PROC_ROOT,
    MemberSample,
    ProcessHandle,
    ProcessId,
    ProcessStat,
    read_children,
    read_stat,
)


@dataclass
class TreeSample:
    """One walk of a tree. ``members`` holds the live processes (zombies count
    as exited and are only listed in ``zombies``); ``races`` counts processes
    that vanished between being listed and being read, which is normal.
    ``unchanged``: the same members as the last walk, none of which has run
    since, so nothing in the tree can have moved."""

    root: ProcessId
    root_alive: bool
    members: dict[ProcessId, MemberSample] = field(default_factory=dict)
    zombies: list[ProcessId] = field(default_factory=list)
    races: int = 0
    unchanged: bool = False

    @property
    def io_unreadable(self) -> int:
        """Members whose io counters could not be read."""
        return sum(1 for sample in self.members.values() if sample.io is None)

    def children_of(self, pid: int) -> list[ProcessId]:
        return [
            member for member, sample in self.members.items() if sample.stat.ppid == pid
        ]


class TreeSampler:
    """Samples one tree again and again, holding descriptors between walks.

    ``include_root=False`` leaves the root itself out of the members (the run
    wrapper watches its descendants, not its own relaying).
    """

    def __init__(
        self, proc_root: str = PROC_ROOT, *, include_root: bool = True
    ) -> None:
        self._proc_root = proc_root
        self._include_root = include_root
        self._handles: dict[int, ProcessHandle] = {}
        self._members: set[ProcessId] = set()
        self._fresh = True  # read every member in full on the next walk
        self._stirred = False  # a process read in this walk had run

    def sample(self, root: ProcessId) -> TreeSample:
        self._stirred = False
        result = self._walk(root)
        members = set(result.members)
        changed = members != self._members or bool(result.zombies or result.races)
        result.unchanged = not (changed or self._stirred)
        self._fresh = changed
        self._members = members
        return result

    def _walk(self, root: ProcessId) -> TreeSample:
        result = TreeSample(root=root, root_alive=False)
        seen: set[int] = set()
        root_sample = self._read(root.pid, expect=root, parent=None, seen=seen)
        if root_sample is None or root_sample.stat.exited:
            self._close_unseen(seen)
            if root_sample is not None:
                result.zombies.append(root)
            return result

        result.root_alive = True
        if self._include_root:
            result.members[root] = root_sample
        stack = self._children(root.pid, root_sample.stat)
        parents = dict.fromkeys(stack, root.pid)
        while stack:
            pid = stack.pop()
            sample = self._read(pid, expect=None, parent=parents.pop(pid), seen=seen)
            if sample is None:
                result.races += 1
                continue
            if sample.stat.exited:
                result.zombies.append(sample.stat.identity)
                continue
            result.members[sample.stat.identity] = sample
            for child in self._children(pid, sample.stat):
                if child not in seen and child not in parents:
                    parents[child] = pid
                    stack.append(child)
        self._close_unseen(seen)
        return result

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def __enter__(self) -> TreeSampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(
        self, pid: int, *, expect: ProcessId | None, parent: int | None, seen: set[int]
    ) -> MemberSample | None:
        """Sample ``pid`` through its held handle, opening one on first sight
        (or when the held one's process is gone and the pid was reused)."""
        handle = self._handles.get(pid)
        sample = handle.sample(fresh=self._fresh) if handle is not None else None
        if handle is not None and sample is None:
            handle.close()
            del self._handles[pid]
            handle = None
        if handle is None:
            handle = ProcessHandle.open(pid, self._proc_root, expect=expect)
            if handle is None:
                return None
            self._handles[pid] = handle
            sample = handle.sample()
        if sample is None or not _belongs(sample.stat, expect, parent):
            return None
        self._stirred |= not handle.quiet
        seen.add(pid)
        return sample

    def _children(self, pid: int, stat: ProcessStat) -> list[int]:
        handle = self._handles.get(pid)
        if handle is None:
            return []
        return handle.children(stat, self._proc_root)

    def _close_unseen(self, seen: set[int]) -> None:
        for pid in [pid for pid in self._handles if pid not in seen]:
            self._handles.pop(pid).close()


def _belongs(stat: ProcessStat, expect: ProcessId | None, parent: int | None) -> bool:
    if expect is not None:
        return stat.identity == expect
    return parent is None or stat.ppid == parent


def walk_tree(root: ProcessId, proc_root: str = PROC_ROOT) -> Iterator[ProcessStat]:
    """Yield the stat of every live process in the tree (root first) with plain
    reads and no held descriptors: for one-off walks such as a kill."""
    root_stat = read_stat(root.pid, proc_root)
    if root_stat is None or root_stat.identity != root or root_stat.exited:
        return
    yield root_stat
    stack = [
        (child, root.pid)
        for child in read_children(root.pid, root_stat.num_threads, proc_root)
    ]
    while stack:
        pid, parent = stack.pop()
        stat = read_stat(pid, proc_root)
        if stat is None or stat.ppid != parent or stat.exited:
            continue
        yield stat
        stack.extend(
            (child, pid) for child in read_children(pid, stat.num_threads, proc_root)
        )
