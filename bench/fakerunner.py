"""Sleeping processes under a fake runner root, for the benchmarks.

Shapes: "jobs" puts N sleeps right under the root (N jobs of one process);
"tree" puts one job process (its argv carries JOB_MARK) with the N sleeps
under it. Every sleep has the same marked argv, so another tool can be told
to track exactly these. On SIGTERM each level kills and reaps what it
started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager

SLEEP_ARGV = ["sleep", "86400.5"]
MARKER = "bench-runner-root"
JOB_MARK = "bench-job"

# The root: argv is N, shape, the sleep's argv (2), the leaf script, MARKER.
_ROOT = textwrap.dedent(
    f"""
    import os, signal, sys, time
    n, shape, sleep_argv, leaf = sys.argv[1], sys.argv[2], sys.argv[3:5], sys.argv[5]
    if shape == "jobs":
        children = [os.posix_spawnp(sleep_argv[0], sleep_argv, os.environ)
                    for _ in range(int(n))]
    else:
        argv = [sys.executable, "-c", leaf, n, *sleep_argv, "{JOB_MARK}"]
        children = [os.posix_spawn(sys.executable, argv, os.environ)]
    def stop(*_):
        for pid in children:
            os.kill(pid, signal.SIGTERM)
        for pid in children:
            os.waitpid(pid, 0)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    while True:
        time.sleep(3600)
    """
)
# The job of the "tree" shape: argv is N and the sleep's argv.
_LEAF = textwrap.dedent(
    """
    import os, signal, sys, time
    n, sleep_argv = int(sys.argv[1]), sys.argv[2:4]
    children = [os.posix_spawnp(sleep_argv[0], sleep_argv, os.environ)
                for _ in range(n)]
    def stop(*_):
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        for pid in children:
            os.waitpid(pid, 0)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    while True:
        time.sleep(3600)
    """
)


@contextmanager
def fake_root(n: int, shape: str) -> Iterator[int]:
    """The root's pid; N sleeps are under it once ``wait_for_sleeps``."""
    process = subprocess.Popen(
        [sys.executable, "-c", _ROOT, str(n), shape, *SLEEP_ARGV, _LEAF, MARKER],
        start_new_session=True,
    )
    try:
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _sleeps_under(root: int) -> int:
    count, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as listing:
                children = [int(word) for word in listing.read().split()]
            with open(f"/proc/{pid}/comm") as comm:
                count += comm.read().strip() == "sleep"
        except OSError:
            continue
        stack.extend(children)
    return count


def wait_for_sleeps(root: int, n: int) -> None:
    deadline = time.monotonic() + 120
    while _sleeps_under(root) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {_sleeps_under(root)} of {n} sleeps started")
        time.sleep(0.1)
