"""Load one YAML document into plain Python values, keeping where each came from.

ruamel.yaml composes the node tree; we build the values ourselves so that we
can see the raw text of every plain scalar. That lets us refuse the YAML 1.1
traps a YAML 1.2 parser quietly accepts (``no`` meant as false, ``1:30`` meant
as a number, ``0755`` meant as octal) and report duplicate keys with both
positions instead of stopping at the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from yamlsource.expansion import BoundedComposer, ExpansionRefused
from yamlsource.problems import (
    KeyPath,
    Problem,
    Severity,
    UnreadableError,
    format_path,
)

# Plain scalars that YAML 1.1 tools (PyYAML, Ansible, older Kubernetes) read
# as booleans; YAML 1.2 reads all but true/false as strings.
YAML11_BOOLEANS = frozenset(
    {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"}
    | {"on", "On", "ON", "off", "Off", "OFF"}
)
SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")
OCTAL_LOOKING = re.compile(r"^[-+]?(0[0-9_]+|0o[0-7_]+)$")
TAGS = "expected plain YAML without tags"
# Hand-written YAML is kilobytes; more is a wrong file (or /dev/zero). The
# pure-Python parser takes about 3 s for this much.
MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Document:
    """A loaded YAML document: its values, their positions and load problems."""

    file: str
    data: Any
    marks: dict[KeyPath, Mark] = field(default_factory=dict)
    key_marks: dict[KeyPath, Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def mark(self, path: KeyPath, at_key: bool = False) -> Mark:
        """Position of the value at ``path`` (or of its key), falling back to
        the nearest ancestor that exists."""
        if at_key and path in self.key_marks:
            return self.key_marks[path]
        for end in range(len(path), -1, -1):
            found = self.marks.get(path[:end])
            if found is not None:
                return found
        return Mark(1, 1)

    def problem(
        self,
        path: KeyPath,
        message: str,
        severity: Severity = "error",
        at_key: bool = False,
    ) -> Problem:
        at = self.mark(path, at_key)
        return Problem(
            self.file, at.line, at.column, format_path(path), message, severity
        )


def load_file(path: Path | str) -> Document:
    """Read and load ``path``; raise UnreadableError if it is unusable."""
    name = str(path)
    try:
        text = _read_text(Path(path))
    except FileNotFoundError:
        raise _unreadable(name, "file not found") from None
    except PermissionError:
        raise _unreadable(name, "permission denied (need read access)") from None
    except IsADirectoryError:
        raise _unreadable(name, "is a directory, expected a YAML file") from None
    except UnicodeDecodeError as exc:
        raise _not_utf8(name, exc) from None
    except OSError as exc:
        raise _unreadable(name, exc.strerror or str(exc)) from None
    if text is None:
        limit = f"{MAX_FILE_BYTES // 1024} KiB"
        raise _unreadable(name, f"larger than {limit}; expected a hand-written file")
    return load_text(text, name)


def _read_text(path: Path) -> str | None:
    """The file's text; None when it is larger than MAX_FILE_BYTES (or
    endless, like /dev/zero)."""
    with path.open("rb") as source:
        data = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return None
    return data.decode("utf-8")


def load_text(text: str, name: str = "<string>") -> Document:
    """Load one YAML document from ``text``; ``name`` is used in problems."""
    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = BoundedComposer
    node = _single(_compose(yaml, text, name), name)
    doc = Document(file=name, data=None)
    if node is None:
        return doc
    try:
        doc.data = _Builder(doc, yaml).build(node, ())
    except MarkedYAMLError as exc:  # a tag it cannot construct: !vault, !!python
        raise UnreadableError([_marked(name, exc, "not loadable YAML", TAGS)]) from None
    return doc


def _compose(yaml: YAML, text: str, name: str) -> list[Node]:
    """Every document's node tree; UnreadableError when ``text`` is not YAML
    or would expand past the bounds of yamlsource.expansion."""
    try:
        return [node for node in yaml.compose_all(text) if node is not None]
    except ExpansionRefused as exc:
        where = format_path(exc.path)
        problem = Problem(name, exc.line, exc.column, where, exc.message)
        raise UnreadableError([problem]) from None
    except MarkedYAMLError as exc:
        raise UnreadableError([_marked(name, exc, "not YAML")]) from None
    except ReaderError as exc:  # a character YAML does not allow
        line, column = _position(text, exc.position)
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else ""
        reason = f"not YAML: character {char}: {exc.reason}"
        raise UnreadableError(
            [Problem(name, line, column, "(document)", reason)]
        ) from None
    except YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _unreadable(name, f"not YAML: {first}") from None


def _single(nodes: list[Node], name: str) -> Node | None:
    """The one document's root node; UnreadableError for a second one."""
    if len(nodes) <= 1:
        return nodes[0] if nodes else None
    second = nodes[1].start_mark
    message = "a second YAML document starts here; expected exactly one"
    raise UnreadableError(
        [Problem(name, second.line + 1, second.column + 1, "(document)", message)]
    )


def _marked(name: str, exc: MarkedYAMLError, what: str, expected: str = "") -> Problem:
    """``exc`` as a problem at its mark: ``what: reason[; expected]``."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = exc.problem or exc.context or "invalid YAML"
    message = f"{what}: {reason}" + (f"; {expected}" if expected else "")
    return Problem(name, line, column, "(document)", message)


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _unreadable(name: str, reason: str) -> UnreadableError:
    return UnreadableError([Problem(name, 1, 1, "(document)", reason)])


def _not_utf8(name: str, exc: UnicodeDecodeError) -> UnreadableError:
    """Point at the first byte that is not UTF-8."""
    before = exc.object[: exc.start].decode("utf-8")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    byte = exc.object[exc.start]
    reason = f"not UTF-8 text: byte 0x{byte:02x} ({exc.reason}); expected a UTF-8 file"
    return UnreadableError([Problem(name, line, column, "(document)", reason)])


class _Builder:
    """Turns composed nodes into dicts, lists and scalars, noting positions."""

    def __init__(self, doc: Document, yaml: YAML) -> None:
        self.doc = doc
        self.constructor = yaml.constructor

    def build(self, node: Node, path: KeyPath) -> Any:
        start = node.start_mark
        self.doc.marks[path] = Mark(start.line + 1, start.column + 1)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, Mark] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or str(key_node.tag).endswith(
                ":merge"
            ):
                self._report(key_node, path, "only plain scalar keys are supported")
                continue
            key = self._scalar(key_node, path)
            at = Mark(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in first_seen:
                before = first_seen[key]
                self._report(
                    key_node,
                    (*path, key),
                    f"duplicate key {key!r}; first defined at line {before.line}, "
                    f"column {before.column}; each key may appear once",
                )
                continue
            first_seen[key] = at
            self.doc.key_marks[(*path, key)] = at
            result[key] = self.build(value_node, (*path, key))
            if _left_out(value_node):
                self.doc.marks[(*path, key)] = at
        return result

    def _scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        raw = node.value
        if node.style is None:  # plain, unquoted: where the traps live
            trap = _trap(raw)
            if trap:
                self._report(node, path, trap)
                return raw
        return self.constructor.construct_object(node, deep=True)

    def _report(self, node: Node, path: KeyPath, message: str) -> None:
        mark = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        self.doc.problems.append(
            Problem(self.doc.file, mark.line, mark.column, format_path(path), message)
        )


def _left_out(node: Node) -> bool:
    """``key:`` and no value: a null that ruamel places where the next token
    starts, often the next line, so it is reported at its key instead."""
    return isinstance(node, ScalarNode) and node.style is None and node.value == ""


def _trap(raw: str) -> str | None:
    if raw in YAML11_BOOLEANS:
        return (
            f"ambiguous value {raw!r}: YAML 1.1 reads it as a boolean; "
            "write true or false, or quote it as a string"
        )
    if SEXAGESIMAL.match(raw):
        return (
            f"ambiguous value {raw!r}: YAML 1.1 reads it as a base-60 number; "
            "quote it, or write plain seconds"
        )
    if OCTAL_LOOKING.match(raw):
        return (
            f"ambiguous value {raw!r}: a leading zero reads as octal in YAML 1.1; "
            "write the number without leading zeros, or quote it"
        )
    return None
