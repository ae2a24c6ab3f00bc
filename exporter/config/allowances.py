"""Checks that every command type gets workable allowances in every environment.

A stall allowance must be at least two sample intervals (otherwise one late
sample is a stall) and at most the hard timeout (otherwise the stall can
never fire); in ``prod`` both must stay within the schema's
``x-prod-maximum`` bounds. Each mistake is reported once, where it is made:
base values at ``timeouts``, a command type's own values under its name, and
what an environment changes at that environment's override or scale.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exporter.config.schema import prod_maximum
from exporter.contract import OTHER_COMMAND_TYPE
from yamlsource import Document, KeyPath, Problem

PROD = "prod"

# The inputs an allowance check reads; an environment that changes one of
# them (by override or scale) is where a new failure is reported.
_STALL, _HARD, _SAMPLE = (
    "stall_seconds",
    "hard_timeout_seconds",
    ("sample_interval_seconds"),
)


@dataclass(frozen=True)
class _Resolved:
    """One command type's allowances in one environment (or in none)."""

    values: dict[str, int]
    sources: dict[str, KeyPath]  # where each value was written


@dataclass(frozen=True)
class _Failure:
    check: str
    keys: tuple[str, ...]  # the values the check compared
    summary: str  # e.g. "stall allowance longer than the hard timeout"
    numbers: str  # e.g. "1200 s > 600 s"
    accepted: str


Check = Callable[[dict[str, int]], _Failure | None]


def check_allowances(doc: Document, data: dict[str, Any]) -> list[Problem]:
    """Allowance problems of schema-valid ``timeouts``, ``environments`` and
    ``command_types`` sections (defaults filled in)."""
    types = [*data["command_types"], OTHER_COMMAND_TYPE]
    problems: dict[tuple[str, KeyPath], Problem] = {}
    base_failed = _base_problems(doc, data, types, problems)
    for env in _environment_names(data):
        _environment_problems(doc, data, types, env, base_failed, problems)
    return list(problems.values())


def _base_problems(
    doc: Document,
    data: dict[str, Any],
    types: list[str],
    problems: dict[tuple[str, KeyPath], Problem],
) -> set[tuple[str, str]]:
    """Failures before any environment applies, at the value that causes
    them; returns (type, check) pairs so environments do not repeat them."""
    failed: set[tuple[str, str]] = set()
    for name in types:
        resolved = _resolve(data, name, None)
        for failure in _failures(resolved.values, _BASE_CHECKS):
            failed.add((name, failure.check))
            at = _own_source(resolved, failure.keys)
            subject = "" if at[0] == "timeouts" else f"command type {name!r}: "
            message = f"{subject}{_sentence(failure)}"
            problems.setdefault((failure.check, at), doc.problem(at, message))
    return failed


def _environment_problems(
    doc: Document,
    data: dict[str, Any],
    types: list[str],
    env: str,
    base_failed: set[tuple[str, str]],
    problems: dict[tuple[str, KeyPath], Problem],
) -> None:
    """New failures an environment causes, one problem per check and place,
    naming every command type it hits."""
    checks = [*_BASE_CHECKS, *(_PROD_CHECKS if env == PROD else [])]
    grouped: dict[tuple[str, KeyPath], list[tuple[str, _Failure]]]
    grouped = defaultdict(list)
    for name in types:
        resolved = _resolve(data, name, env)
        for failure in _failures(resolved.values, checks):
            if (name, failure.check) not in base_failed:
                at = _env_source(data, env, resolved, failure.keys)
                grouped[(failure.check, at)].append((name, failure))
    for (check, at), found in grouped.items():
        problems.setdefault((check, at), doc.problem(at, _env_message(env, found)))


def _environment_names(data: dict[str, Any]) -> list[str]:
    return [name for name in data["environments"] if name != "default"]


def _resolve(data: dict[str, Any], type_name: str, env: str | None) -> _Resolved:
    """Mirror of ``Config.allowance``, remembering where each value came from."""
    values = dict(data["timeouts"])
    sources: dict[str, KeyPath] = {k: ("timeouts", k) for k in values}
    scale = 1.0
    if env is not None:
        settings = data["environments"][env]
        scale = settings.get("scale", 1.0)
        for key, value in settings.get("timeouts", {}).items():
            values[key] = value
            sources[key] = ("environments", env, "timeouts", key)
    own = data["command_types"].get(type_name, {})
    for key in (_STALL, _HARD):
        if own.get(key) is not None:
            values[key] = own[key]
            sources[key] = ("command_types", type_name, key)
        values[key] = math.ceil(values[key] * scale)
    return _Resolved(values, sources)


def _short_stall(v: dict[str, int]) -> _Failure | None:
    if v[_STALL] >= 2 * v[_SAMPLE]:
        return None
    return _Failure(
        "short",
        (_STALL, _SAMPLE),
        "stall allowance shorter than two sample intervals",
        f"{v[_STALL]} s < 2 x {v[_SAMPLE]} s",
        f"a stall allowance of at least {2 * v[_SAMPLE]} s",
    )


def _long_stall(v: dict[str, int]) -> _Failure | None:
    if v[_STALL] <= v[_HARD]:
        return None
    return _Failure(
        "long",
        (_STALL, _HARD),
        "stall allowance longer than the hard timeout, so it can never fire",
        f"{v[_STALL]} s > {v[_HARD]} s",
        "a stall allowance no longer than the hard timeout",
    )


def _prod_bound(key: str, what: str) -> Check:
    def check(v: dict[str, int]) -> _Failure | None:
        bound = prod_maximum(key)
        if v[key] <= bound:
            return None
        return _Failure(
            f"prod-{key}",
            (key,),
            f"{what} looser than prod allows",
            f"{v[key]} s > {bound} s",
            f"at most {bound} s in prod",
        )

    return check


_BASE_CHECKS: list[Check] = [_short_stall, _long_stall]
_PROD_CHECKS: list[Check] = [
    _prod_bound(_STALL, "stall allowance"),
    _prod_bound(_HARD, "hard timeout"),
]


def _failures(values: dict[str, int], checks: list[Check]) -> list[_Failure]:
    return [f for f in (check(values) for check in checks) if f is not None]


def _own_source(resolved: _Resolved, keys: tuple[str, ...]) -> KeyPath:
    """The most specific place among the compared values: a command type's
    own value before a base one."""
    sources = [resolved.sources[k] for k in keys]
    own = [s for s in sources if s[0] == "command_types"]
    return own[0] if own else sources[0]


def _env_source(
    data: dict[str, Any], env: str, resolved: _Resolved, keys: tuple[str, ...]
) -> KeyPath:
    """Where an environment caused a failure: its override of a compared
    value, else its scale, else the value itself."""
    for key in keys:
        if resolved.sources[key][0] == "environments":
            return resolved.sources[key]
    settings = data["environments"][env]
    if "scale" in settings and settings["scale"] != 1:
        return ("environments", env, "scale")
    return _own_source(resolved, keys)


def _sentence(failure: _Failure) -> str:
    return f"{failure.summary} ({failure.numbers}); expected {failure.accepted}"


def _env_message(env: str, found: list[tuple[str, _Failure]]) -> str:
    first = found[0][1]
    noun = "command type" if len(found) == 1 else "command types"
    which = ", ".join(f"{name} ({failure.numbers})" for name, failure in found)
    return (
        f"in environment {env!r}, {noun} {which}: {first.summary}; "
        f"expected {first.accepted}"
    )
