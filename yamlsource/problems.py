"""Problems found in a hand-written YAML file, each pinned to where it stands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """Render a key path the way users write it: ``slos[0].alerts[1].window``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake: file, 1-based line and column, key path and what is wrong.

    The message quotes the bad value and says what would be accepted.
    """

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        tag = "" if self.severity == "error" else "warning: "
        return f"{where}: {tag}{self.path}: {self.message}"


def errors(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "warning"]


class YamlSourceError(Exception):
    """A file that cannot be used at all; carries every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UnreadableError(YamlSourceError):
    """The file could not be read or is not YAML."""
