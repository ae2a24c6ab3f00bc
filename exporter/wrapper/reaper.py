"""Keep every descendant under the wrapper and collect the dead ones.

As a child subreaper the wrapper adopts the orphans of its command's tree
(children of a ``setsid`` or a double fork included), so they can be found
and killed. Reaping them must never steal the command's own status: each
zombie is first peeked at with ``waitid(..., WNOWAIT)``; the command itself
is left to its ``Popen``, every other zombie is reaped here.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess

PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>


class SubreaperError(OSError):
    """prctl(PR_SET_CHILD_SUBREAPER) failed."""


def become_subreaper() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise SubreaperError(
            errno, f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(errno)}"
        )


class Reaper:
    """Reaps orphaned zombies; hands the command's own exit to its Popen."""

    def __init__(self, command: subprocess.Popen[bytes]) -> None:
        self._command = command
        self.orphans_reaped = 0

    def reap(self) -> None:
        while True:
            try:
                found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if found is None:
                return
            if found.si_pid == self._command.pid:
                self._command.poll()  # Popen reaps it and keeps the status
                if self._command.returncode is None:
                    return
                continue
            try:
                os.waitid(os.P_PID, found.si_pid, os.WEXITED | os.WNOHANG)
                self.orphans_reaped += 1
            except ChildProcessError:
                continue
