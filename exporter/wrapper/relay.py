"""Pass the command's output through, unchanged and at once, and tell
progress tracking how much was written and whether any of it was new.

When nobody reads the wrapper's output any more (``cmd | head -1``), the
pipe from the command is closed too, so the command gets SIGPIPE just as it
would without the wrapper in between. Any other write error (a full disk
behind ``> out.log``) loses that stream's output: it is remembered in
``lost``, the rest of the stream is read and dropped, and the command runs
on undisturbed.

Output is read from pipes as it arrives and written to the wrapper's own
stdout/stderr. New output counts as progress; the same lines printed again
("waiting for lock...") do not, so a command that only repeats itself is
still a stall (and the hard timeout applies anyway). The bytes still queued
in each pipe (``FIONREAD``) are counted too, so what the command wrote
matches what its ``wchar`` says.
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import termios
from collections import OrderedDict

from exporter.progress import OutputActivity

_READ_SIZE = 65536
_RECENT_LINES = 1024  # distinct lines remembered for "seen before"
_LONGEST_LINE = 4096  # a longer run without a newline counts as a line


class _Stream:
    __slots__ = ("partial", "source", "target", "writable")

    def __init__(self, source: int, target: int | None) -> None:
        self.source = source
        self.target = target  # None once the target is gone (EPIPE)
        self.writable = True  # False once a write failed otherwise: drop the rest
        self.partial = b""


class OutputRelay:
    def __init__(self, routes: dict[int, int]) -> None:
        """``routes`` maps each pipe's read end to the descriptor its data
        goes to (the command's stdout pipe to 1, stderr pipe to 2)."""
        self._streams = {
            source: _Stream(source, target) for source, target in routes.items()
        }
        self._recent: OrderedDict[bytes, None] = OrderedDict()
        self._relayed = 0
        self._queued = 0
        self._novel = False
        self.lost: dict[int, OSError] = {}  # target descriptor: its write error

    @property
    def open_sources(self) -> list[int]:
        return list(self._streams)

    def pump(self, source: int) -> bool:
        """Relay what one pipe has now; False once it reached end of file."""
        stream = self._streams[source]
        try:
            data = os.read(source, _READ_SIZE)
        except BlockingIOError:
            return True
        if not data:
            self._finish(stream)
            return False
        self._write(stream, data)
        self._relayed += len(data)
        self._judge(stream, data)
        if stream.target is None:  # our reader left: so does the command's
            self._finish(stream)
            return False
        return True

    def drain(self) -> None:
        """Relay whatever every pipe holds right now, without waiting."""
        for source in list(self._streams):
            while self.pump(source) and _queued(source) > 0:
                pass

    def take_activity(self) -> OutputActivity:
        """Bytes the command wrote since the last call, and whether any
        line among them was new."""
        queued = sum(_queued(source) for source in self._streams)
        written = self._relayed + queued - self._queued
        activity = OutputActivity(bytes_written=max(written, 0), novel=self._novel)
        self._relayed = 0
        self._queued = queued
        self._novel = False
        return activity

    def close(self) -> None:
        for stream in self._streams.values():
            os.close(stream.source)
        self._streams.clear()

    # Known shortcoming: the wrapper's own stdout and stderr stay blocking
    # (making them non-blocking would change them for every process sharing
    # them), so a reader that stops reading without leaving holds the loop
    # here, and the stall allowance and hard timeout wait with it.
    def _write(self, stream: _Stream, data: bytes) -> None:
        view = memoryview(data)
        while view and stream.target is not None and stream.writable:
            try:
                view = view[os.write(stream.target, view) :]
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno in (errno.EPIPE, errno.EBADF):
                    stream.target = None  # nobody reads our output
                else:
                    stream.writable = False
                    self.lost[stream.target] = exc

    def _judge(self, stream: _Stream, data: bytes) -> None:
        lines = (stream.partial + data).replace(b"\r", b"\n").split(b"\n")
        stream.partial = lines.pop()
        if len(stream.partial) > _LONGEST_LINE:
            lines.append(stream.partial)
            stream.partial = b""
        for line in lines:
            if line:
                self._remember(line)

    def _remember(self, line: bytes) -> None:
        if line in self._recent:
            self._recent.move_to_end(line)
            return
        self._novel = True
        self._recent[line] = None
        if len(self._recent) > _RECENT_LINES:
            self._recent.popitem(last=False)

    def _finish(self, stream: _Stream) -> None:
        if stream.partial:
            self._remember(stream.partial)
        os.close(stream.source)
        del self._streams[stream.source]


def _queued(source: int) -> int:
    """Bytes waiting in a pipe."""
    try:
        raw = fcntl.ioctl(source, termios.FIONREAD, b"\0" * 4)
    except OSError:
        return 0
    return int(struct.unpack("i", raw)[0])
