"""Bounds on what a small YAML file may expand to, checked while composing.

Aliases let a few lines stand for an enormous tree ("billion laughs": each
level repeats the one before nine times), an alias inside its own anchor
stands for an endless one, and deep nesting overflows every recursive
reader. The composer below counts, for each anchor, how many values and
levels its value holds, so an alias is judged by what it would copy before
anything is copied; it stops at the first value past a bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ruamel.yaml.composer import Composer
from ruamel.yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from ruamel.yaml.nodes import ScalarNode

from yamlsource.problems import KeyPath

# Hand-written config nests a handful of levels; 64 leaves room and keeps
# every recursive reader (ours, ruamel's, jsonschema's) far from Python's
# recursion limit.
MAX_DEPTH = 64
# Values aliases may copy in one document, in all. Shared blocks of a real
# config copy tens; a billion-laughs file wants billions.
MAX_ALIASED_VALUES = 10_000


class ExpansionRefused(Exception):
    """A value past a bound; load_text turns it into a Problem."""

    def __init__(self, line: int, column: int, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.path = path
        self.message = message


@dataclass
class _Open:
    """A value being composed: where it is, and what it holds so far."""

    path: KeyPath
    values: int = 1
    levels: int = 0  # nested lists and mappings, itself included


@dataclass(frozen=True)
class _Anchored:
    values: int
    levels: int


class BoundedComposer(Composer):
    """ruamel.yaml's composer, refusing documents past MAX_DEPTH or
    MAX_ALIASED_VALUES; ruamel still reports undefined aliases itself."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._open: list[_Open] = []
        # Per anchor, its value's size; None while the value is being composed.
        self._anchored: dict[str, _Anchored | None] = {}
        self._aliased = 0

    def compose_document(self) -> Any:
        self._anchored = {}
        self._aliased = 0
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        path = self._path(index)
        if isinstance(event, AliasEvent):
            self._alias(event, path)
            return super().compose_node(parent, index)

        collection = isinstance(event, SequenceStartEvent | MappingStartEvent)
        if collection and len(self._open) >= MAX_DEPTH:
            raise _too_deep(event, f"nesting deeper than {MAX_DEPTH} levels")
        current = _Open(path, levels=1 if collection else 0)
        if event.anchor is not None:
            self._anchored[event.anchor] = None
        self._open.append(current)
        node = super().compose_node(parent, index)

        self._open.pop()
        if event.anchor is not None:
            self._anchored[event.anchor] = _Anchored(current.values, current.levels)
        self._add(current.values, current.levels)
        return node

    def _path(self, index: Any) -> KeyPath:
        """The key path of the value composed next under the innermost open
        value: ``index`` is a list position, a mapping's key node, or None
        for a mapping key itself."""
        parent = self._open[-1].path if self._open else ()
        if isinstance(index, int):
            return (*parent, index)
        if isinstance(index, ScalarNode):
            return (*parent, str(index.value))
        return parent

    def _alias(self, event: Any, path: KeyPath) -> None:
        name = event.anchor
        if name not in self._anchored:
            return  # undefined: the composer says so
        anchored = self._anchored[name]
        if anchored is None:
            raise ExpansionRefused(
                *_position(event),
                path,
                f"alias *{name} is inside the value of its own anchor &{name}, "
                "which would repeat forever; accepted: aliases to anchors whose "
                "value ends before the alias",
            )
        if len(self._open) + anchored.levels > MAX_DEPTH:
            depth = len(self._open) + anchored.levels
            raise _too_deep(event, f"alias *{name} nests {depth} levels deep")
        self._aliased += anchored.values
        if self._aliased > MAX_ALIASED_VALUES:
            raise ExpansionRefused(
                *_position(event),
                path,
                f"alias *{name} copies {anchored.values} values, bringing the "
                f"values copied by aliases to {self._aliased}, over the limit of "
                f"{MAX_ALIASED_VALUES}; accepted: aliases that copy at most "
                f"{MAX_ALIASED_VALUES} values in all (write the values out instead)",
            )
        self._add(anchored.values, anchored.levels)

    def _add(self, values: int, levels: int) -> None:
        if self._open:
            parent = self._open[-1]
            parent.values += values
            parent.levels = max(parent.levels, levels + 1)


def _too_deep(event: Any, what: str) -> ExpansionRefused:
    """Refused nesting, reported at the document: its key path would be as
    long as the nesting."""
    return ExpansionRefused(
        *_position(event),
        (),
        f"{what}; accepted: at most {MAX_DEPTH} levels of nested lists and mappings",
    )


def _position(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1
