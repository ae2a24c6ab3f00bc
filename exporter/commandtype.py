"""Which command type a command line or a process belongs to.

A command matches a type when its executable name is one of the type's
``executables`` or its command line matches the type's
``argument_pattern``; types are tried in config order and the unmatched
are ``other``.

A process is classified when first seen and again only when it ``exec``s,
which shows as a new name in ``stat``: a shell that execs the real command
is classified by what it became, and nothing is re-read on other samples.
Reading ``cmdline`` (only for argument patterns) can block on a process in
uninterruptible sleep, which is why it happens at most once per name.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence

from exporter.config.model import CommandType
from exporter.contract import OTHER_COMMAND_TYPE
from exporter.procfs import PROC_ROOT, ProcessId, read_text

# Linux keeps 15 bytes of a process name in ``stat`` (TASK_COMM_LEN - 1).
COMM_LENGTH = 15


def classify_argv(command_types: Mapping[str, CommandType], argv: Sequence[str]) -> str:
    """The command type of a command line (the run wrapper's --type default)."""
    if not argv:
        return OTHER_COMMAND_TYPE
    names = {os.path.basename(argv[0])}
    return _first_match(command_types.values(), names, lambda: shlex.join(argv))


def read_cmdline(pid: int, proc_root: str = PROC_ROOT) -> list[str] | None:
    """A process's argv; None when gone or unreadable. Discovery only."""
    try:
        text = read_text(f"{proc_root}/{pid}/cmdline")
    except OSError:
        return None
    if text is None:
        return None
    return [part for part in text.split("\0") if part]


class ProcessClassifier:
    """Classifies processes by identity, remembering each verdict with the
    name it was made for; a new name (an ``exec``) triggers a new verdict."""

    def __init__(
        self,
        command_types: Mapping[str, CommandType],
        proc_root: str = PROC_ROOT,
        cmdline_reader: Callable[[int, str], list[str] | None] = read_cmdline,
    ) -> None:
        self._types = list(command_types.values())
        self._proc_root = proc_root
        self._read_cmdline = cmdline_reader
        self._verdicts: dict[ProcessId, tuple[str, str]] = {}
        self.classifications = 0  # how many verdicts were made (tests, metrics)

    def classify(self, identity: ProcessId, comm: str) -> str:
        known = self._verdicts.get(identity)
        if known is not None and known[0] == comm:
            return known[1]
        verdict = self._classify(identity.pid, comm)
        self._verdicts[identity] = (comm, verdict)
        self.classifications += 1
        return verdict

    def forget(self, keep: Iterable[ProcessId]) -> None:
        """Drop verdicts of processes not in ``keep`` (those that left)."""
        kept = set(keep)
        for identity in [known for known in self._verdicts if known not in kept]:
            del self._verdicts[identity]

    def _classify(self, pid: int, comm: str) -> str:
        cmdline: list[str] | None = None

        def command_line() -> str:
            nonlocal cmdline
            if cmdline is None:
                cmdline = self._read_cmdline(pid, self._proc_root) or []
            return shlex.join(cmdline)

        names = {comm}
        return _first_match(self._types, names, command_line, truncated=True)


def _first_match(
    types: Iterable[CommandType],
    names: set[str],
    command_line: Callable[[], str],
    *,
    truncated: bool = False,
) -> str:
    for kind in types:
        wanted = {
            name[:COMM_LENGTH] if truncated else name for name in kind.executables
        }
        if wanted & names:
            return kind.name
        if kind.argument_pattern is not None and kind.argument_pattern.search(
            command_line()
        ):
            return kind.name
    return OTHER_COMMAND_TYPE
