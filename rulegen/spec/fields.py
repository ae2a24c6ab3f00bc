"""Reading typed fields out of a loaded YAML document, collecting problems.

Every parser takes the source, the key path and the raw value, records a
problem naming the bad value and what is accepted when the value is wrong,
and returns None then; the loader keeps going so that one run reports every
mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from rulegen import durations
from yamlsource import Document, KeyPath, Problem

T = TypeVar("T")
D = TypeVar("D")
Parser = Callable[["Source", KeyPath, Any], T]

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Names the spec gives become label values and file names: the watchdog
# config's rule for label values (at most 63 characters, as in DNS labels
# and Kubernetes names) keeps them far from the file system's 255 bytes.
MAX_NAME_LENGTH = 63
# A name too long is quoted by its start.
QUOTED_CHARACTERS = 40


class Source:
    """The document being read and the problems found in it so far."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[Problem] = list(doc.problems)

    def error(self, path: KeyPath, message: str, at_key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, at_key=at_key))

    def warn(self, path: KeyPath, message: str) -> None:
        self.problems.append(self.doc.problem(path, message, severity="warning"))


class Mapping:
    """One YAML mapping whose keys must come from ``keys``."""

    def __init__(
        self, src: Source, path: KeyPath, value: Any, keys: Iterable[str]
    ) -> None:
        self.src = src
        self.path = path
        self.keys = tuple(keys)
        self.data: dict[Any, Any] = {}
        self.valid = isinstance(value, dict)
        if not isinstance(value, dict):
            src.error(path, f"expected a mapping, got {describe(value)}")
            return
        self.data = value
        for key in value:
            if key not in self.keys:
                src.error(
                    (*path, key),
                    f"unknown key {key!r}; accepted keys: {', '.join(self.keys)}",
                    at_key=True,
                )

    def has(self, key: str) -> bool:
        return key in self.data

    def required(self, key: str, parse: Parser[T]) -> T | None:
        assert key in self.keys, key
        if key not in self.data:
            if self.valid:  # a non-mapping was reported already
                self.src.error((*self.path, key), f"missing required key {key!r}")
            return None
        return parse(self.src, (*self.path, key), self.data[key])

    def optional(self, key: str, parse: Parser[T], default: D) -> T | D:
        assert key in self.keys, key
        if key not in self.data:
            return default
        return parse(self.src, (*self.path, key), self.data[key])


def describe(value: Any) -> str:
    """A value as an error message quotes it."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def text(src: Source, path: KeyPath, value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    src.error(path, f"expected non-empty text, got {describe(value)}")
    return None


def matching(
    pattern: str, accepted: str, max_length: int | None = None
) -> Parser[str | None]:
    """A text parser that also requires ``pattern`` (described by ``accepted``)
    and, when given, at most ``max_length`` characters."""
    compiled = re.compile(pattern)

    def parse(src: Source, path: KeyPath, value: Any) -> str | None:
        too_long = max_length is not None and len(str(value)) > max_length
        if isinstance(value, str) and too_long:
            src.error(
                path,
                f"{value[:QUOTED_CHARACTERS]!r}... is {len(value)} characters long; "
                f"accepted: {accepted}",
            )
            return None
        if isinstance(value, str) and compiled.match(value):
            return value
        src.error(path, f"{describe(value)} is not {accepted}")
        return None

    return parse


def choice(options: tuple[str, ...]) -> Parser[str | None]:
    def parse(src: Source, path: KeyPath, value: Any) -> str | None:
        if value in options:
            return str(value)
        src.error(path, f"{describe(value)} is not one of: {', '.join(options)}")
        return None

    return parse


def duration(src: Source, path: KeyPath, value: Any) -> timedelta | None:
    accepted = durations.ACCEPTED
    if not isinstance(value, str):
        src.error(path, f"{describe(value)} is not a duration; accepted: {accepted}")
        return None
    try:
        parsed = durations.parse(value)
    except durations.TooLongError:
        src.error(path, f"{value!r} is too long; accepted: {durations.LONGEST_TEXT}")
        return None
    except ValueError as exc:
        src.error(path, f"{value!r} is not a duration ({exc}); accepted: {accepted}")
        return None
    if parsed.microseconds:
        src.error(path, f"{value!r} is not whole seconds; accepted: {accepted}")
        return None
    return parsed


def objective(src: Source, path: KeyPath, value: Any) -> Decimal | None:
    accepted = "the objective as a ratio strictly between 0 and 1, such as 0.98 for 98%"
    number = _decimal(value)
    if isinstance(value, str):
        src.error(path, f"{value!r} is text, not a number; accepted: {accepted}")
        return None
    if number is None or not 0 < number < 1:
        src.error(path, f"{describe(value)} is outside (0, 1); accepted: {accepted}")
        return None
    return number


def number(src: Source, path: KeyPath, value: Any) -> Decimal | None:
    found = _decimal(value)
    if found is None:
        src.error(path, _not_a_number(value, "a number"))
    return found


def positive_number(src: Source, path: KeyPath, value: Any) -> Decimal | None:
    number = _decimal(value)
    if number is None or number <= 0:
        src.error(path, _not_a_number(value, "a number greater than 0"))
        return None
    return number


def _not_a_number(value: Any, wanted: str) -> str:
    """Why ``value`` is not ``wanted``; text that looks like a number (a
    quoted 0.98) is told apart."""
    if isinstance(value, str):
        return f"{value!r} is text, not a number; accepted: {wanted}"
    return f"{describe(value)} is not {wanted}"


def count(src: Source, path: KeyPath, value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    src.error(path, f"{describe(value)} is not a whole number of at least 0")
    return None


def label_name(src: Source, path: KeyPath, value: Any) -> str | None:
    if isinstance(value, str) and LABEL_NAME.match(value):
        return value
    src.error(
        path,
        f"{describe(value)} is not a Prometheus label name; accepted: letters, "
        "digits and underscores, not starting with a digit (no '-')",
    )
    return None


def sequence(src: Source, path: KeyPath, value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    src.error(path, f"expected a list, got {describe(value)}")
    return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    # str() gives the shortest spelling that reads back: 0.98, not 0.979999...
    number = Decimal(str(value))
    return number if number.is_finite() else None


def check_unique(src: Source, items: list[tuple[KeyPath, str]], what: str) -> None:
    """Report every name in ``items`` seen before, with where it first was."""
    first: dict[str, KeyPath] = {}
    for path, name in items:
        if name in first:
            at = src.doc.mark(first[name])
            earlier = f"line {at.line}, column {at.column}"
            src.error(path, f"duplicate {what} {name!r}; first used at {earlier}")
        else:
            first.setdefault(name, path)
