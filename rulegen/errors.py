"""rulegen's errors, in the project's one exception family.

Each carries its exit code (see ``exporter.errors``); the CLI prints the
message and exits with it, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter.errors import InvalidInputError, UnreadableInputError, WatchdogError
from yamlsource import Problem


def _listing(problems: Sequence[Problem]) -> str:
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    lines = [f"{count} {noun} in the SLO spec:"]
    lines += [f"  {problem}" for problem in sorted(problems)]
    return "\n".join(lines)


class SpecError(InvalidInputError):
    """The spec was read but is wrong; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(_listing(self.problems))


class UnreadableSpecError(UnreadableInputError):
    """The spec could not be read, or is not YAML."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(_listing(self.problems))


class CheckFailedError(WatchdogError):
    """A generated artifact failed its check (promtool, later amtool)."""

    exit_code = 1


class OutputError(WatchdogError):
    """A generated file could not be written, or a stale one removed."""

    exit_code = 2


class ToolMissingError(WatchdogError):
    """A checking tool is not installed."""

    exit_code = 2
