"""Why a stalled job is stuck: ``io_wait``, ``child_hang``, ``network`` or
``idle``, read from each member's state and wait channel.

What is read, only once a job has stalled (never while sampling):

- ``stat`` state: ``D`` is uninterruptible sleep, normally disk or NFS I/O;
  a parent blocked in ``vfork`` also shows ``D``, and its wait channel says
  so (it is waiting on its child, not on a disk);
- ``wchan``: the kernel function the process sleeps in. ``do_wait`` (or
  ``sigsuspend``, as dash does) with live children is a parent in
  ``wait``; socket functions (``sk_wait_data``, ``inet_csk_accept``,
  ``unix_stream_read_generic`` ...) are network waits;
- the ``fd/`` links, only for generic waits (``poll``/``select``/``epoll``,
  ``wait_woken``) that say nothing by themselves: holding a socket makes
  such a wait a network wait.

A job's cause is the deepest one found: any member in I/O wait makes it
``io_wait``; else any member blocked on the network makes it ``network``;
else a parent waiting on a live child (through ``wait`` or the child's
pipe) makes it ``child_hang``; otherwise it is ``idle``.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporter.contract import CAUSES
from exporter.procfs import PROC_ROOT, ProcessStat, read_wchan, socket_inodes
from exporter.proctree import TreeSample

IO_WAIT, CHILD_HANG, NETWORK, IDLE = CAUSES
# A member's own role; WAITING_CHILD becomes the job's CHILD_HANG.
WAITING_CHILD = "waiting_child"

# Wait-channel fragments, matched as substrings (names vary across kernels).
# Shells such as dash wait for SIGCHLD in sigsuspend; with live children
# that is a wait on them too.
_CHILD_WAITS = ("do_wait", "kernel_wait", "vfork", "sigsuspend", "sys_pause")
_PIPE_WAITS = ("pipe_read", "pipe_wait")
_SOCKET_WAITS = (
    "sk_wait",
    "skb_wait",
    "skb_recv",
    "inet_csk_accept",
    "inet_wait",
    "unix_stream",
    "unix_dgram",
    "unix_wait",
    "tcp_",
    "udp_",
    "sock_",
)
_GENERIC_WAITS = ("wait_woken", "poll_schedule", "select", "poll", "epoll")


@dataclass(frozen=True)
class MemberState:
    pid: int
    start_time: int
    comm: str
    state: str
    wchan: str
    role: str  # io_wait, network, waiting_child or idle

    def to_fields(self) -> dict[str, object]:
        return {
            "pid": self.pid,
            "start_time": self.start_time,
            "comm": self.comm,
            "state": self.state,
            "wchan": self.wchan,
            "role": self.role,
        }


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    members: tuple[MemberState, ...]

    def to_fields(self) -> dict[str, object]:
        return {
            "cause": self.cause,
            "members": [member.to_fields() for member in self.members],
        }


def is_network_wait(pid: int, proc_root: str = PROC_ROOT) -> bool:
    """Whether ``pid`` sleeps on a socket: a socket wait channel, or a
    generic wait while holding a socket."""
    return _network_role(pid, read_wchan(pid, proc_root), proc_root)


def classify(sample: TreeSample, proc_root: str = PROC_ROOT) -> Diagnosis:
    """The cause of a stalled tree, with every member's state as evidence."""
    states: list[MemberState] = []
    for identity, member in sorted(sample.members.items()):
        wchan = read_wchan(identity.pid, proc_root)
        has_children = bool(sample.children_of(identity.pid))
        role = _role(member.stat, wchan, has_children, proc_root)
        states.append(
            MemberState(
                pid=identity.pid,
                start_time=identity.start_time,
                comm=member.stat.comm,
                state=member.stat.state,
                wchan=wchan,
                role=role,
            )
        )
    roles = {state.role for state in states}
    for role, cause in (
        (IO_WAIT, IO_WAIT),
        (NETWORK, NETWORK),
        (WAITING_CHILD, CHILD_HANG),
    ):
        if role in roles:
            return Diagnosis(cause, tuple(states))
    return Diagnosis(IDLE, tuple(states))


def _role(stat: ProcessStat, wchan: str, has_children: bool, proc_root: str) -> str:
    waits_on_child = _matches(wchan, _CHILD_WAITS) or _matches(wchan, _PIPE_WAITS)
    if stat.state == "D" and not _matches(wchan, ("vfork",)):
        return IO_WAIT
    if waits_on_child and has_children:
        return WAITING_CHILD
    if _network_role(stat.pid, wchan, proc_root):
        return NETWORK
    return IDLE


def _network_role(pid: int, wchan: str, proc_root: str) -> bool:
    if _matches(wchan, _SOCKET_WAITS):
        return True
    return _matches(wchan, _GENERIC_WAITS) and socket_inodes(pid, proc_root) > 0


def _matches(wchan: str, fragments: tuple[str, ...]) -> bool:
    return any(fragment in wchan for fragment in fragments)
