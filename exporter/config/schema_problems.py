"""Schema violations as Problems: each pinned to its line and column, naming the
key path, the bad value and what the schema accepts.

Unknown keys are warnings here; ``--strict`` turns them into errors later.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any, cast

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from exporter.config.schema import known_keys, resolve_ref, schema_errors
from yamlsource import Document, KeyPath, Problem

_MAX_SHOWN = 60


def schema_problems(doc: Document, data: Any) -> list[Problem]:
    """Every schema violation of ``data`` (loaded from ``doc``), once each."""
    problems: list[Problem] = []
    for error in schema_errors(data):
        problems.extend(_problems_of(doc, error))
    return problems


def _problems_of(doc: Document, error: ValidationError) -> Iterable[Problem]:
    path: KeyPath = tuple(error.absolute_path)
    keyword = error.validator
    if "propertyNames" in error.schema_path:
        name = _instance(error)
        message = (
            f"name {show(name)} is not accepted; expected {accepted(_schema(error))}"
        )
        return [doc.problem((*path, name), message, at_key=True)]
    if keyword == "additionalProperties":
        return _unknown_keys(doc, error, path)
    if keyword == "required":
        return _missing(doc, error, path)
    if keyword == "uniqueItems":
        return _duplicates(doc, _instance(error), path)
    return [doc.problem(path, describe(error))]


def describe(error: ValidationError) -> str:
    """What is wrong with the value ``error`` is about, in plain words."""
    keyword, value, schema = error.validator, _instance(error), _schema(error)
    if keyword in {"anyOf", "oneOf"}:
        return _alternatives(error)
    if keyword == "minItems":
        return f"empty list; expected {accepted(schema)}"
    if keyword == "minProperties":
        return f"nothing defined; expected {_min_properties(error)}"
    if keyword == "minLength":
        return f"empty string; expected {accepted(schema)}"
    return f"got {show(value)}; expected {accepted(schema)}"


def _alternatives(error: ValidationError) -> str:
    causes = list(error.context or [])
    if causes and all(c.validator == "required" for c in causes):
        names = ", ".join(str(_argument(c)[0]) for c in causes)
        return f"needs at least one of the keys: {names}"
    best = best_match(causes) if causes else None
    return describe(best) if best is not None else error.message


def _min_properties(error: ValidationError) -> str:
    if "default" in _schema(error).get("properties", {}):
        return "at least one environment besides default"
    return f"at least {_argument(error)} entry"


def _unknown_keys(
    doc: Document, error: ValidationError, path: KeyPath
) -> list[Problem]:
    known = known_keys(_schema(error))
    problems = []
    for key in _instance(error):
        if key in known:
            continue
        message = f"unknown key {show(key)}; accepted here: {', '.join(known)}"
        close = difflib.get_close_matches(str(key), known, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        problems.append(
            doc.problem((*path, key), message, severity="warning", at_key=True)
        )
    return problems


def _missing(doc: Document, error: ValidationError, path: KeyPath) -> list[Problem]:
    """One problem per missing key, pinned to the mapping that lacks it."""
    present = _instance(error)
    present = present if isinstance(present, dict) else {}
    properties = _schema(error).get("properties", {})
    problems = []
    for name in _argument(error):
        if name in present:
            continue
        sub = properties.get(name)
        want = f"; expected {accepted(sub)}" if sub else ""
        message = f"missing required key {name!r}{want}"
        problems.append(doc.problem((*path, name), message))
    return problems


def _duplicates(doc: Document, items: Any, path: KeyPath) -> list[Problem]:
    problems = []
    seen: list[Any] = []
    for index, item in enumerate(items):
        if item in seen:
            first = seen.index(item)
            message = (
                f"duplicate entry {show(item)}; first at index {first}; "
                "each entry may appear once"
            )
            problems.append(doc.problem((*path, index), message))
        seen.append(item)
    return problems


def _schema(error: ValidationError) -> dict[str, Any]:
    """The (sub)schema holding the failed keyword."""
    schema = error.schema
    return dict(schema) if isinstance(schema, Mapping) else {}


def _instance(error: ValidationError) -> Any:
    """The value that failed."""
    return cast(Any, error.instance)


def _argument(error: ValidationError) -> Any:
    """The failed keyword's own value in the schema (``required``'s list)."""
    return cast(Any, error.validator_value)


def accepted(schema: dict[str, Any]) -> str:
    """What a schema accepts, in words a config author understands."""
    schema = resolve_ref(schema)
    if "x-expected" in schema:
        return str(schema["x-expected"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        return _range("a whole number", schema)
    if kind == "number":
        return _range("a number", schema)
    if kind == "boolean":
        return "true or false"
    if kind == "array":
        items = schema.get("items", {})
        least = schema.get("minItems", 0)
        head = f"a list of at least {least} entry" if least else "a list"
        return f"{head}, each {accepted(items)}" if items else head
    if kind == "object":
        keys = known_keys(schema)
        return f"a mapping with keys {', '.join(keys)}" if keys else "a mapping"
    return "a value of type " + str(kind)


def _range(noun: str, schema: dict[str, Any]) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    above = schema.get("exclusiveMinimum")
    if low is not None and high is not None:
        return f"{noun} from {low} to {high}"
    if above is not None and high is not None:
        return f"{noun} greater than {above} and at most {high}"
    if low is not None:
        return f"{noun} of at least {low}"
    return noun


def show(value: Any) -> str:
    """A value as the YAML author wrote it, shortened."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return {math.inf: ".inf", -math.inf: "-.inf"}.get(value, ".nan")
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = f"{type(value).__name__} {value!r}"
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return text
