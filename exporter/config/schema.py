"""The config's JSON Schema: loading it, validating against it, and filling in
its defaults.

The schema ships inside the package (``runner.schema.json`` beside this
module, kept identical to ``config/runner.schema.json`` by a test), so an
installed exporter validates exactly like a source checkout.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

SCHEMA_FILE = "runner.schema.json"


@cache
def config_schema() -> dict[str, Any]:
    """The config schema as a mapping (read once)."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _is_integer(_checker: object, instance: object) -> bool:
    # YAML's 300.0 is a float; a whole-seconds key wants 300 written as 300.
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_number(_checker: object, instance: object) -> bool:
    return isinstance(instance, int | float) and not isinstance(instance, bool)


_StrictTypes = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}
    ),
)


@cache
def _validator() -> Validator:
    schema = config_schema()
    Draft202012Validator.check_schema(schema)
    validator: Validator = _StrictTypes(schema)
    return validator


def schema_errors(data: Any) -> Iterator[ValidationError]:
    """Every schema violation in ``data``."""
    return _validator().iter_errors(data)


def resolve_ref(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/name``) to the schema it names."""
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    target: Any = config_schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return resolve_ref(target)


def known_keys(schema: dict[str, Any]) -> list[str]:
    return list(resolve_ref(schema).get("properties", {}))


def with_defaults(data: Any) -> Any:
    """A copy of config ``data`` with every schema default filled in and the
    unknown keys (reported as problems already) left out."""
    return _fill(copy.deepcopy(data), config_schema())


def _fill(value: Any, schema: dict[str, Any]) -> Any:
    schema = resolve_ref(schema)
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [_fill(item, items) for item in value]
        return value
    if not isinstance(value, dict):
        return value
    properties: dict[str, Any] = schema.get("properties", {})
    for key, sub in properties.items():
        if key not in value and "default" in resolve_ref(sub):
            value[key] = copy.deepcopy(resolve_ref(sub)["default"])
    extra = schema.get("additionalProperties")
    for key in list(value):
        if key in properties:
            value[key] = _fill(value[key], properties[key])
        elif isinstance(extra, dict):
            value[key] = _fill(value[key], extra)
        elif extra is False:
            del value[key]
    return value


def prod_maximum(key: str) -> int:
    """The documented bound of a timeout key in the ``prod`` environment."""
    bound: int = config_schema()["$defs"][key]["x-prod-maximum"]
    return bound
