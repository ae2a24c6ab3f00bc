"""The config's two failures, each carrying every problem found."""

from __future__ import annotations

from collections.abc import Sequence

from exporter.errors import InvalidInputError, UnreadableInputError
from yamlsource import Problem


def _listing(headline: str, problems: Sequence[Problem]) -> str:
    return "\n".join([headline, *(f"  {p}" for p in problems)])


class ConfigInvalid(InvalidInputError):
    """The config was read but breaks the schema or a check (exit 1)."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems)
        count = len([p for p in self.problems if p.severity == "error"])
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            _listing(f"invalid config {source}: {count} {noun}", self.problems)
        )


class ConfigUnreadable(UnreadableInputError):
    """The config could not be read, or is not YAML (exit 2)."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems)
        super().__init__(_listing(f"unreadable config {source}:", self.problems))
