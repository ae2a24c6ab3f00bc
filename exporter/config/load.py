"""Read a config file, validate it fully and build the ``Config``.

Validation collects every problem in one pass: YAML traps and duplicate keys
(yamlsource), the JSON Schema, then the checks the schema cannot express.
Warnings (risky but workable) become errors under ``strict``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from exporter.config.allowances import check_allowances
from exporter.config.build import build_config
from exporter.config.checks import check_sections
from exporter.config.errors import ConfigInvalid
from exporter.config.locate import resolve_config_path
from exporter.config.model import Config
from exporter.config.reading import read_file, read_text
from exporter.config.schema import config_schema, with_defaults
from exporter.config.schema_problems import schema_problems, show
from exporter.config.security_checks import check_security
from yamlsource import Document, KeyPath, Problem, errors, format_path, warnings

logger = logging.getLogger(__name__)

# Sections the allowance checks read together; they run only when all three
# passed the schema.
_ALLOWANCE_SECTIONS = ("timeouts", "environments", "command_types")


def load_config(path: Path | None = None, *, strict: bool = False) -> Config:
    """The config at ``path`` (default: ``resolve_config_path(None)``).

    Raises ConfigInvalid (exit 1) listing every problem, or ConfigUnreadable
    (exit 2) when the file cannot be read or is not YAML. Warnings of a valid
    config are logged.
    """
    source = path if path is not None else resolve_config_path(None)
    config, problems = validate_config(source, strict)
    if config is None:
        raise ConfigInvalid(str(source), problems)
    for problem in warnings(problems):
        logger.warning("config warning: %s", problem)
    return config


def validate_config(
    path: Path | None = None, strict: bool = False
) -> tuple[Config | None, list[Problem]]:
    """Validate the config at ``path``: the Config (None when any error) and
    every problem, warnings included, sorted by position.

    Raises ConfigUnreadable when the file cannot be read or is not YAML; the
    exporter's reload keeps its last good config on either outcome.
    """
    source = path if path is not None else resolve_config_path(None)
    return validate_document(read_file(source), strict, source.absolute())


def validate_text(
    text: str, strict: bool = False, name: str = "<string>"
) -> tuple[Config | None, list[Problem]]:
    """Like validate_config, for config text (relative paths start here)."""
    doc = read_text(text, name)
    return validate_document(doc, strict, Path.cwd() / "runner.yaml")


def validate_document(
    doc: Document, strict: bool, source: Path
) -> tuple[Config | None, list[Problem]]:
    problems = list(doc.problems)
    if not isinstance(doc.data, dict):
        if doc.data is None:
            problems.append(doc.problem((), _EMPTY))
        else:
            problems.extend(schema_problems(doc, doc.data))
        return None, _finish(problems, strict)

    data = _with_string_keys(doc, doc.data, (), problems)
    problems.extend(_new(schema_problems(doc, data), problems))
    filled = with_defaults(data)
    problems.extend(check_sections(doc, filled))
    problems.extend(check_security(doc, filled.get("security")))
    if all(_clean(problems, section) for section in _ALLOWANCE_SECTIONS):
        problems.extend(check_allowances(doc, filled))

    problems = _finish(problems, strict)
    if errors(problems):
        return None, problems
    return build_config(filled, source, Path.cwd()), problems


_EMPTY = "empty config; expected a mapping with keys " + ", ".join(
    config_schema()["required"]
)


def _with_string_keys(
    doc: Document, value: Any, path: KeyPath, problems: list[Problem]
) -> Any:
    """A copy of ``value`` without keys that are not strings (``1:``, ``null:``),
    each reported: every key in the config is a name."""
    if isinstance(value, list):
        return [
            _with_string_keys(doc, item, (*path, i), problems)
            for i, item in enumerate(value)
        ]
    if not isinstance(value, dict):
        return value
    kept = {}
    for key, item in value.items():
        if isinstance(key, str):
            kept[key] = _with_string_keys(doc, item, (*path, key), problems)
            continue
        at = doc.mark((*path, key), at_key=True)
        message = f"key {show(key)} is not a name; expected a string key (quote it)"
        where = format_path((*path, show(key)))
        problems.append(Problem(doc.file, at.line, at.column, where, message))
    return kept


def _new(found: Iterable[Problem], known: list[Problem]) -> list[Problem]:
    """Schema problems at paths yamlsource already reported (a trap left the
    raw text in place) would say the same thing twice."""
    taken = {p.path for p in known}
    return [p for p in found if p.path not in taken]


def _clean(problems: list[Problem], section: str) -> bool:
    return not any(
        p.path == section or p.path.startswith((f"{section}.", f"{section}["))
        for p in errors(problems)
    )


def _finish(problems: list[Problem], strict: bool) -> list[Problem]:
    """Each problem once, sorted; under strict, warnings are errors."""
    if strict:
        problems = [_refused(p) if p.severity == "warning" else p for p in problems]
    unique = {(p.line, p.column, p.path, p.message): p for p in problems}
    return sorted(unique.values())


def _refused(problem: Problem) -> Problem:
    return Problem(
        problem.file,
        problem.line,
        problem.column,
        problem.path,
        f"{problem.message}; refused by --strict",
    )
