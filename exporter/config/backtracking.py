"""Regular expressions that can backtrack catastrophically.

Python's engine backtracks: when a loop can match the same text in two
different ways (``(a+)+``, ``(x+x+)+y``, ``(\\w+\\s?)*``), a long
text that fails to match makes it try exponentially many ways, and one
command line can take hours. That is exactly when the pattern's
position automaton (Glushkov's construction: one state per character
matcher, each edge tagged with the loop or sequence that made it) has a
state with two different paths back to itself that read the same text; the
check searches the automaton's product with itself for such a pair.

Known shortcoming: character sets are judged on ASCII plus the pattern's own
characters, flags are ignored, bounded repeats count as unbounded, atomic
groups and backreferences are read as one character, and polynomial blow-ups
(``x*x*x*y``) are not looked for; the run wrapper's time limit on the search
is the backstop.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

# The parse tree is not public API; re._parser has held it since 3.11.
_parser: Any = importlib.import_module("re._parser")

Chars = frozenset[str]
Node = tuple[Any, Any]
Pair = tuple[int, int]
Edge = tuple[int, int]  # (next state, tag): 0 for a sequence, else the loop

_ASCII: Chars = frozenset(chr(code) for code in range(128))
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT"}
# Work bounds: a pattern past them is not judged (quadratic pairs).
_MOST_STATES = 400
_MOST_EDGE_CHECKS = 200_000  # about a quarter of a second


class _TooLarge(Exception):
    """The pattern's product automaton is past the work bound."""


EXPLANATION = (
    "a loop can match the same text more than one way, as in (a+)+ or "
    "(\\w+\\s?)*, so a long command line that does not match takes "
    "exponential time"
)


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` can backtrack catastrophically, or None."""
    try:
        tree = list(_parser.parse(pattern))
    except Exception:  # not compilable: the compile check reports it
        return None
    automaton = _Automaton(_ASCII | _literals(tree))
    automaton.build(tree)
    if len(automaton.chars) > _MOST_STATES:
        return None
    try:
        return EXPLANATION if automaton.ambiguous_loop() else None
    except _TooLarge:
        return None


def _literals(items: Sequence[Any]) -> Chars:
    """Every literal character of the tree, so sets are judged on them too."""
    found: set[str] = set()
    stack: list[Any] = list(items)
    while stack:
        item = stack.pop()
        if isinstance(item, tuple) and len(item) == 2 and str(item[0]) == "LITERAL":
            found.add(chr(item[1]))
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif hasattr(item, "data"):  # a nested SubPattern
            stack.extend(item.data)
    return frozenset(found)


@dataclass
class _Fragment:
    """States a part can start and end on, and whether it can match ''."""

    first: set[int] = field(default_factory=set)
    last: set[int] = field(default_factory=set)
    nullable: bool = True


class _Automaton:
    """Glushkov's position automaton: a state per character matcher, an
    edge p -> q when q's character may come right after p's."""

    def __init__(self, alphabet: Chars) -> None:
        self.alphabet = alphabet
        self.chars: list[Chars] = []
        self.follow: list[set[Edge]] = []
        self.loops = 0
        self.checks_left = _MOST_EDGE_CHECKS

    def build(self, seq: Sequence[Node]) -> _Fragment:
        whole = _Fragment()
        for node in seq:
            whole = self._then(whole, self._node(node))
        return whole

    def _then(self, before: _Fragment, after: _Fragment) -> _Fragment:
        for state in before.last:
            self.follow[state] |= {(next_state, 0) for next_state in after.first}
        return _Fragment(
            first=before.first | (after.first if before.nullable else set()),
            last=after.last | (before.last if after.nullable else set()),
            nullable=before.nullable and after.nullable,
        )

    def _node(self, node: Node) -> _Fragment:
        name, value = str(node[0]), node[1]
        if name in _REPEATS:
            low, high, body = value
            inner = self.build(list(body))
            if high > 1:
                self.loops += 1
                for state in inner.last:
                    self.follow[state] |= {(again, self.loops) for again in inner.first}
            return _Fragment(inner.first, inner.last, inner.nullable or low == 0)
        if name == "SUBPATTERN":
            return self.build(list(value[3]))
        if name in {"BRANCH", "GROUPREF_EXISTS"}:
            branches = value[1] if name == "BRANCH" else value[1:]
            return self._either([list(b) for b in branches if b is not None])
        if name in {"ASSERT", "ASSERT_NOT"}:
            self.build(list(value[1]))  # its own loops count; it reads nothing
            return _Fragment()
        if name == "AT":
            return _Fragment()
        if name in {"POSSESSIVE_REPEAT", "ATOMIC_GROUP", "GROUPREF"}:
            return self._state(self.alphabet)  # never re-split by backtracking
        return self._state(self._chars(name, value))

    def _either(self, branches: list[list[Node]]) -> _Fragment:
        result = _Fragment(nullable=False)
        for branch in branches:
            part = self.build(branch)
            result.first |= part.first
            result.last |= part.last
            result.nullable = result.nullable or part.nullable
        return result

    def _state(self, chars: Chars) -> _Fragment:
        self.chars.append(chars)
        self.follow.append(set())
        state = len(self.chars) - 1
        return _Fragment({state}, {state}, nullable=False)

    def _chars(self, name: str, value: Any) -> Chars:
        """The characters one single-character matcher accepts."""
        if name == "LITERAL":
            return frozenset({chr(value)})
        if name == "NOT_LITERAL":
            return self.alphabet - {chr(value)}
        if name == "CATEGORY":
            return frozenset(c for c in self.alphabet if _in_category(str(value), c))
        if name == "IN":
            return self._set(value)
        return self.alphabet  # ANY, or something unforeseen: the worst case

    def _set(self, items: Sequence[Node]) -> Chars:
        chars: set[str] = set()
        negate = False
        for op, value in items:
            name = str(op)
            if name == "NEGATE":
                negate = True
            elif name == "RANGE":
                low, high = value
                chars |= {c for c in self.alphabet if low <= ord(c) <= high}
            else:
                chars |= self._chars(name, value)
        return self.alphabet - chars if negate else frozenset(chars)

    def ambiguous_loop(self) -> bool:
        """Whether some state has two different paths back to itself that
        read the same text: a strongly connected component of the product
        automaton holding a pair (p, p) and either a pair (r, s) with r != s
        or an edge where the two paths take different edges."""
        for component in _components(self._pairs_from_diagonal(), self._targets):
            if not any(a == b for a, b in component):
                continue
            if any(a != b for a, b in component):
                return True
            members = set(component)
            for pair in component:
                if any(split and to in members for to, split in self._steps(pair)):
                    return True
        return False

    def _pairs_from_diagonal(self) -> list[Pair]:
        return [(state, state) for state in range(len(self.chars))]

    def _targets(self, pair: Pair) -> Iterator[Pair]:
        return (to for to, _split in self._steps(pair))

    def _steps(self, pair: Pair) -> Iterator[tuple[Pair, bool]]:
        """Pairs reachable reading one character, and whether the two paths
        took different edges to get there."""
        left, right = pair
        self.checks_left -= len(self.follow[left]) * len(self.follow[right])
        if self.checks_left < 0:
            raise _TooLarge
        for a, tag_a in self.follow[left]:
            for b, tag_b in self.follow[right]:
                if self.chars[a] & self.chars[b]:
                    yield (a, b), (a, tag_a) != (b, tag_b)


def _components(starts: list[Pair], steps: Any) -> Iterator[list[Pair]]:
    """Strongly connected components reachable from ``starts`` (Tarjan's
    algorithm, iterative so that long patterns cannot exhaust the stack)."""
    index: dict[Pair, int] = {}
    low: dict[Pair, int] = {}
    on_stack: set[Pair] = set()
    stack: list[Pair] = []
    for start in starts:
        if start in index:
            continue
        work: list[tuple[Pair, Iterator[Pair]]] = [(start, iter(steps(start)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(steps(successor))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    yield component


def _in_category(category: str, char: str) -> bool:
    kind = category.removeprefix("CATEGORY_").removeprefix("UNI_")
    kind = kind.removeprefix("LOC_")
    negated = kind.startswith("NOT_")
    kind = kind.removeprefix("NOT_")
    tests = {
        "DIGIT": char.isdecimal(),
        "SPACE": char.isspace(),
        "WORD": char.isalnum() or char == "_",
        "LINEBREAK": char == "\n",
    }
    return tests.get(kind, True) != negated
