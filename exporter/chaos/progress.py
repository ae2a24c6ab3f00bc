"""The progress line on stderr while scenarios run.

On a terminal one line is rewritten in place (scenario, elapsed time, what
it waits for). Elsewhere (CI logs, pipes) each new step is printed once,
so a log shows the steps without a line per poll.
"""

from __future__ import annotations

import time
from typing import TextIO

_CLEAR = "\r\033[K"


class ProgressLine:
    def __init__(self, stream: TextIO, total: int) -> None:
        self._stream = stream
        self._total = total
        self._tty = stream.isatty()
        self._index = 0
        self._scenario = ""
        self._started = time.monotonic()
        self._last = ""

    def begin(self, index: int, scenario: str) -> None:
        self._index, self._scenario = index, scenario
        self._started = time.monotonic()
        self._last = ""

    def step(self, message: str) -> None:
        """Show what the running scenario is doing now."""
        elapsed = time.monotonic() - self._started
        head = f"[{self._index}/{self._total} {self._scenario} {elapsed:5.1f} s]"
        if self._tty:
            self._stream.write(f"{_CLEAR}{head} {message}")
            self._stream.flush()
        elif message != self._last:
            self._stream.write(f"chaos: {head} {message}\n")
            self._stream.flush()
        self._last = message

    def clear(self) -> None:
        """Remove the line before a result is printed (terminals only)."""
        if self._tty:
            self._stream.write(_CLEAR)
            self._stream.flush()
