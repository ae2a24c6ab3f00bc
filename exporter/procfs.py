"""Raw readers for the few /proc files that stall detection needs.

Only ``stat``, ``io``, ``schedstat``, ``wchan`` and ``task/<tid>/children``
are read while sampling: they never take the target's memory lock, so they
cannot hang on a process stuck in uninterruptible sleep (``cmdline``,
``environ``, ``maps`` and ``smaps`` can, and are left to discovery).

A ``ProcessHandle`` keeps its descriptors open and re-reads them with
``os.pread``: about three times cheaper than opening each file per sample,
and a held descriptor fails with ESRCH once its process is gone, so a reused
pid is never read in its place.

A process that has not run since its last read has nothing new to report,
and ``schedstat`` says so in one read: see ``ProcessHandle.sample``.
"""

from __future__ import annotations

import errno
import os
import resource
from typing import NamedTuple

PROC_ROOT = "/proc"
_READ_SIZE = 4096
_LONGEST_RECORD = 32  # bytes; a pid with its separator is at most 8
# errno values that mean "the process is gone" for a procfs read or open.
_GONE = frozenset({errno.ENOENT, errno.ESRCH})


class ProcessId(NamedTuple):
    """A process's identity: a pid is reused, a pid with its start time is not."""

    pid: int
    start_time: int  # clock ticks after boot, field 22 of stat


class ProcessStat(NamedTuple):
    """The fields of ``/proc/<pid>/stat`` that sampling uses."""

    pid: int
    comm: str
    state: str
    ppid: int
    utime: int
    stime: int
    cutime: int
    cstime: int
    num_threads: int
    start_time: int

    @property
    def identity(self) -> ProcessId:
        return ProcessId(self.pid, self.start_time)

    @property
    def cpu_ticks(self) -> int:
        """Own CPU plus that of reaped children, in clock ticks."""
        return self.utime + self.stime + self.cutime + self.cstime

    @property
    def exited(self) -> bool:
        """A zombie (or a dead task) has exited; its numbers are frozen."""
        return self.state in ("Z", "X", "x")


class IoCounters(NamedTuple):
    """Character-level counters: they move for page-cache and tmpfs traffic,
    unlike ``read_bytes``/``write_bytes``."""

    rchar: int
    wchar: int
    syscr: int
    syscw: int


class MemberSample(NamedTuple):
    """One read of one process. ``io`` is None when it cannot be read (another
    user's process): that is a degraded capability, never a sign of idleness.
    ``wakeups`` counts how often the main thread was scheduled in (schedstat),
    None where the kernel does not provide it."""

    stat: ProcessStat
    io: IoCounters | None
    wakeups: int | None


def parse_stat(text: str) -> ProcessStat:
    """Parse ``/proc/<pid>/stat``; the name sits between the first ``(`` and
    the last ``)`` and may itself contain spaces and parentheses."""
    open_paren = text.index("(")
    close_paren = text.rindex(")")
    fields = text[close_paren + 2 :].split()
    # fields[0] is stat field 3 (state); field N is fields[N - 3].
    return ProcessStat(
        pid=int(text[:open_paren]),
        comm=text[open_paren + 1 : close_paren],
        state=fields[0],
        ppid=int(fields[1]),
        utime=int(fields[11]),
        stime=int(fields[12]),
        cutime=int(fields[13]),
        cstime=int(fields[14]),
        num_threads=int(fields[17]),
        start_time=int(fields[19]),
    )


def parse_io(text: str) -> IoCounters:
    words = text.split()
    if words[0:8:2] == ["rchar:", "wchar:", "syscr:", "syscw:"]:
        # The kernel's fixed layout: the fast path of every sample.
        return IoCounters(int(words[1]), int(words[3]), int(words[5]), int(words[7]))
    values = dict(zip(words[0::2], words[1::2], strict=False))
    return IoCounters(
        int(values["rchar:"]),
        int(values["wchar:"]),
        int(values["syscr:"]),
        int(values["syscw:"]),
    )


def parse_schedstat(text: str) -> int:
    """The third number of ``schedstat``: times the task was scheduled in."""
    return int(text.split()[2])


def parse_children(text: str) -> list[int]:
    return [int(word) for word in text.split()]


def is_gone(exc: OSError) -> bool:
    return exc.errno in _GONE


def read_text(path: str) -> str | None:
    """Read a small procfs file whole with plain ``os`` calls; None when the
    process (or the file) is gone. Other errors (EACCES) propagate."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        if is_gone(exc):
            return None
        raise
    try:
        return _read_all(fd)
    except OSError as exc:
        if is_gone(exc):
            return None
        raise
    finally:
        os.close(fd)


def _read_all(fd: int, offset: int | None = None) -> str:
    """Read to EOF: ``children`` returns at most about a page per read."""
    chunks: list[bytes] = []
    position = 0 if offset is None else offset
    while True:
        if offset is None:
            chunk = os.read(fd, _READ_SIZE)
        else:
            chunk = os.pread(fd, _READ_SIZE, position)
        if not chunk:
            break
        chunks.append(chunk)
        position += len(chunk)
        if len(chunk) < _READ_SIZE - _LONGEST_RECORD:
            # A procfs read fills the buffer while records remain, so a
            # clearly short one was the last; this saves a pread per parent.
            break
    return b"".join(chunks).decode("utf-8", "surrogateescape")


def read_stat(pid: int, proc_root: str = PROC_ROOT) -> ProcessStat | None:
    text = read_text(f"{proc_root}/{pid}/stat")
    return None if text is None else parse_stat(text)


def read_identity(pid: int, proc_root: str = PROC_ROOT) -> ProcessId | None:
    stat = read_stat(pid, proc_root)
    return None if stat is None else stat.identity


def read_wchan(pid: int, proc_root: str = PROC_ROOT) -> str:
    """The kernel function a sleeping process waits in; "" when running,
    gone or hidden (a bare ``0``)."""
    try:
        text = read_text(f"{proc_root}/{pid}/wchan")
    except PermissionError:
        return ""
    if text is None or text.strip() == "0":
        return ""
    return text.strip()


def read_children(
    pid: int, num_threads: int = 1, proc_root: str = PROC_ROOT
) -> list[int]:
    """Children of every thread of ``pid`` (a child belongs to the thread that
    forked it). Single-threaded processes cost one file; others a directory
    listing more."""
    if num_threads <= 1:
        tids = [pid]
    else:
        try:
            tids = [int(name) for name in os.listdir(f"{proc_root}/{pid}/task")]
        except OSError as exc:
            if is_gone(exc):
                return []
            raise
    children: list[int] = []
    for tid in tids:
        text = read_text(f"{proc_root}/{pid}/task/{tid}/children")
        if text:
            children.extend(parse_children(text))
    return children


def socket_inodes(pid: int, proc_root: str = PROC_ROOT) -> int:
    """How many of the process's descriptors are sockets (0 when unreadable).

    Lists ``fd/`` and reads each link: only on a stall or a wakeup that
    nothing else explains, never on every sample."""
    directory = f"{proc_root}/{pid}/fd"
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    count = 0
    for name in names:
        try:
            if os.readlink(f"{directory}/{name}").startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


def raise_open_file_limit() -> int:
    """Raise the soft descriptor limit to the hard one (held descriptors take
    three per watched process); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            return soft
    return soft


class ProcessHandle:
    """Held descriptors on one process's ``stat``, ``io``, ``schedstat`` and
    main-thread ``children``, re-read with ``pread``.

    Open with ``ProcessHandle.open``; ``sample()`` returns None once the
    process is gone (reaped). Close it when done.
    """

    __slots__ = (
        "_children",
        "_children_fd",
        "_io_fd",
        "_last",
        "_last_sched",
        "_sched_fd",
        "_stat_fd",
        "identity",
        "pid",
        "quiet",
    )

    def __init__(
        self,
        pid: int,
        identity: ProcessId,
        stat_fd: int,
        io_fd: int | None,
        sched_fd: int | None,
        children_fd: int | None,
    ) -> None:
        self.pid = pid
        self.identity = identity
        self._stat_fd = stat_fd
        self._io_fd = io_fd
        self._sched_fd = sched_fd
        self._children_fd = children_fd
        self._last: MemberSample | None = None
        self._last_sched = ""
        self._children: tuple[int, ...] | None = None
        self.quiet = False  # the last sample() found the process had not run

    @classmethod
    def open(
        cls, pid: int, proc_root: str = PROC_ROOT, expect: ProcessId | None = None
    ) -> ProcessHandle | None:
        """Open a handle, or None when the process is gone or is not
        ``expect`` (its pid now belongs to another process)."""
        base = f"{proc_root}/{pid}"
        stat_fd = _open_optional(f"{base}/stat")
        if stat_fd is None:
            return None
        try:
            text = _read_all(stat_fd, 0)
        except OSError as exc:
            os.close(stat_fd)
            if is_gone(exc):
                return None
            raise
        identity = parse_stat(text).identity
        if expect is not None and identity != expect:
            os.close(stat_fd)
            return None
        return cls(
            pid,
            identity,
            stat_fd,
            _open_optional(f"{base}/io"),
            _open_optional(f"{base}/schedstat"),
            _open_optional(f"{base}/task/{pid}/children"),
        )

    @property
    def io_readable(self) -> bool:
        return self._io_fd is not None

    def sample(self, *, fresh: bool = False) -> MemberSample | None:
        """Read schedstat, stat and io; None when the process is gone.

        ``schedstat`` is read first. When it is unchanged, and the last read
        found one thread that was not running, the process has not run since:
        its CPU time, I/O counters, state, threads and children can only
        change by its own execution (a wakeup moves the schedule-in count at
        once, a running task's CPU time moves every tick). The last sample is
        then returned and ``quiet`` set, and ``children`` reuses its list.
        ``fresh`` reads everything whatever schedstat says.
        """
        try:
            sched = ""
            if self._sched_fd is not None:
                sched = _pread_small(self._sched_fd)
            last = self._last
            self.quiet = (
                not fresh
                and last is not None
                and sched == self._last_sched
                and _at_rest(last.stat, sched)
            )
            if last is not None and self.quiet:
                return last
            stat = parse_stat(_pread_small(self._stat_fd))
            io = None
            if self._io_fd is not None:
                io = parse_io(_pread_small(self._io_fd))
        except OSError as exc:
            if is_gone(exc):
                return None
            raise
        wakeups = parse_schedstat(sched) if sched else None
        self._last = MemberSample(stat, io, wakeups)
        self._last_sched = sched
        return self._last

    def children(self, stat: ProcessStat, proc_root: str = PROC_ROOT) -> list[int]:
        """Children of every thread; the main thread's via the held
        descriptor, or the last list when the process has not run since."""
        if not (self.quiet and self._children is not None):
            self._children = self._read_children(stat, proc_root)
        return list(self._children)  # the caller's to change

    def _read_children(self, stat: ProcessStat, proc_root: str) -> tuple[int, ...]:
        if stat.num_threads > 1 or self._children_fd is None:
            return tuple(read_children(self.pid, stat.num_threads, proc_root))
        try:
            return tuple(parse_children(_read_all(self._children_fd, 0)))
        except OSError as exc:
            if is_gone(exc):
                return ()
            raise

    def close(self) -> None:
        for fd in (self._stat_fd, self._io_fd, self._sched_fd, self._children_fd):
            if fd is not None:
                os.close(fd)
        self._io_fd = self._sched_fd = self._children_fd = None


def _at_rest(stat: ProcessStat, sched: str) -> bool:
    """Whether an unchanged ``sched`` proves the process has not run since
    ``stat`` was read: it was single-threaded (``schedstat`` of a pid is its
    main thread's) and not running, and the kernel keeps its run time (a
    zero there means the kernel does not)."""
    return stat.num_threads == 1 and stat.state != "R" and not sched.startswith("0 ")


def _pread_small(fd: int) -> str:
    """One pread of a file that always fits (stat, io, schedstat)."""
    return os.pread(fd, _READ_SIZE, 0).decode("utf-8", "surrogateescape")


def _open_optional(path: str) -> int | None:
    """Open read-only; None when missing, gone or forbidden (io of another
    user's process)."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        if is_gone(exc) or exc.errno in (errno.EACCES, errno.EPERM):
            return None
        raise
