"""The config reference table of the README, generated from the JSON Schema so
the two cannot drift (``make golden`` rewrites it; a test compares)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from exporter.config.schema import config_schema, resolve_ref

START_MARKER = "<!-- config-reference:start -->"
END_MARKER = "<!-- config-reference:end -->"
HEADER = (
    "<!-- generated from config/runner.schema.json by "
    "exporter/config/reference.py; do not edit, run `make golden` -->"
)

_COLUMNS = ("Key", "Type", "Default", "Accepted", "Description")


def reference_table() -> str:
    """The Markdown table, one row per key, in schema order."""
    lines = [
        HEADER,
        "",
        "| " + " | ".join(_COLUMNS) + " |",
        "|" + "---|" * len(_COLUMNS),
    ]
    schema = config_schema()
    for key, sub, required in _rows(schema, ""):
        cells = [f"`{key}`", _type(sub), _default(sub, required), _accepted(sub)]
        cells.append(str(sub.get("description", "")))
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def replace_reference(readme: str) -> str:
    """``readme`` with the text between the markers replaced by the table."""
    head, start, rest = readme.partition(START_MARKER)
    _, end, tail = rest.partition(END_MARKER)
    if not start or not end:
        raise ValueError(f"README lacks {START_MARKER} ... {END_MARKER}")
    return f"{head}{START_MARKER}\n{reference_table()}{END_MARKER}{tail}"


def _rows(schema: dict[str, Any], prefix: str) -> Iterator[tuple[str, Any, bool]]:
    schema = resolve_ref(schema)
    required = set(schema.get("required", []))
    for key, sub in schema.get("properties", {}).items():
        yield from _row_and_children(f"{prefix}{key}", sub, key in required)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from _row_and_children(f"{prefix}<name>", extra, False)


def _row_and_children(
    key: str, schema: dict[str, Any], required: bool
) -> Iterator[tuple[str, Any, bool]]:
    schema = resolve_ref(schema)
    yield key, schema, required
    if schema.get("type") == "object":
        yield from _rows(schema, f"{key}.")
    items = resolve_ref(schema.get("items", {}))
    if items.get("type") == "object":
        yield from _rows(items, f"{key}[].")


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        items = resolve_ref(schema.get("items", {}))
        inner = "mapping" if items.get("type") == "object" else items.get("type")
        return f"list of {inner}"
    return "mapping" if kind == "object" else str(kind)


def _default(schema: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in schema:
        return ""
    value = schema["default"]
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return f"{len(value)} entries, see description"
    if value == {}:
        return ""
    return f"`{json.dumps(value)}`"


def _accepted(schema: dict[str, Any]) -> str:
    parts = []
    if "x-expected" in schema:
        parts.append(str(schema["x-expected"]))
    if "enum" in schema:
        parts.append(", ".join(f"`{v}`" for v in schema["enum"]))
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        parts.append(f"{low} to {high}")
    elif schema.get("exclusiveMinimum") is not None and high is not None:
        parts.append(f"more than {schema['exclusiveMinimum']}, at most {high}")
    if "x-prod-maximum" in schema:
        parts.append(f"at most {schema['x-prod-maximum']} in prod")
    if "minItems" in schema:
        parts.append(f"at least {schema['minItems']} entry")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
