"""A wall-clock limit on regular-expression searches in the wrapper.

Blocked patterns and argument patterns are written by config authors, and a
pattern that backtracks catastrophically can search one command line for
hours, before any stall allowance or hard timeout applies. CPython's regex
engine checks for signals while it matches, so a SIGALRM timer can stop it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Longer than any sane pattern needs on the longest command line Linux
# accepts (ARG_MAX, 2 MiB): a legitimate search takes milliseconds.
PATTERN_SEARCH_SECONDS = 2.0


class TimeLimitExceeded(Exception):
    """The guarded block ran out of time."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeLimitExceeded inside the block after ``seconds``.

    Known shortcoming: signals reach only the main thread, so elsewhere the
    block runs unlimited; and an interval timer already set is cancelled.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    armed = True

    def expire(signum: int, frame: FrameType | None) -> None:
        if armed:
            raise TimeLimitExceeded(f"over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
