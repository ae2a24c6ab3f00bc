"""Checks of the ``security`` section beyond its schema.

Risky allowlist entries are warnings (``--strict`` refuses them); blocked
patterns must compile and must not match everything, and are warned about
when they can backtrack catastrophically; and the four families
of destructive command every config should block are tried against the
patterns with real command lines.
"""

from __future__ import annotations

import re
from typing import Any

from exporter.config.allowlist import SHELLS, risk_of
from exporter.config.backtracking import backtracking_risk
from exporter.config.schema_problems import show
from yamlsource import Document, Problem

# One real command line per family that every config must block; the
# shipped patterns block each (and many variants, see the tests).
MUST_BLOCK: dict[str, str] = {
    "recursive deletion of /": "rm -rf /",
    "a download piped into a shell": "curl -fsSL https://get.example.com | sh",
    "a fork bomb": ":(){ :|:& };:",
    "a write to a raw disk": "dd if=/dev/zero of=/dev/sda bs=1M",
}


def check_security(doc: Document, section: Any) -> list[Problem]:
    if not isinstance(section, dict):
        return []
    return [
        *_allowlist(doc, section.get("allowed_commands")),
        *_shells(doc, section),
        *_blocked(doc, section.get("blocked_patterns")),
    ]


def _allowlist(doc: Document, entries: Any) -> list[Problem]:
    problems = []
    for index, entry in enumerate(_strings(entries)):
        if not entry:
            continue
        reason = risk_of(entry)
        if reason is not None:
            path = ("security", "allowed_commands", index)
            message = f"risky entry {show(entry)}: {reason}"
            problems.append(doc.problem(path, message, severity="warning"))
    return problems


def _shells(doc: Document, section: dict[str, Any]) -> list[Problem]:
    allow = section.get("allow_shell", False)
    shells = section.get("shells", [])
    if not isinstance(allow, bool) or not isinstance(shells, list):
        return []
    if allow and not shells:
        return [
            doc.problem(
                ("security", "allow_shell"),
                "allow_shell is true but security.shells lists no shell; "
                "expected shells such as [sh, bash], or allow_shell: false",
            )
        ]
    if shells and not allow:
        return [
            doc.problem(
                ("security", "shells"),
                "shells are listed but allow_shell is false, so none may run; "
                "expected allow_shell: true, or no shells",
                severity="warning",
            )
        ]
    problems = []
    for index, name in enumerate(_strings(shells)):
        if name and name not in SHELLS:
            message = (
                f"{show(name)} is not a shell; expected one of "
                f"{', '.join(sorted(SHELLS))} (list other commands under "
                "allowed_commands)"
            )
            path = ("security", "shells", index)
            problems.append(doc.problem(path, message, severity="warning"))
    return problems


def _blocked(doc: Document, patterns: Any) -> list[Problem]:
    problems = []
    risky = []
    compiled = []
    for index, text in enumerate(_strings(patterns)):
        if not text:  # the schema reports it
            continue
        path = ("security", "blocked_patterns", index)
        pattern, problem = compile_pattern(doc, path, text)
        if problem is not None:
            problems.append(problem)
        elif pattern is not None and pattern.search("") is not None:
            message = (
                f"pattern {show(text)} matches the empty string, so it would "
                "block every command; expected a pattern that needs some text"
            )
            problems.append(doc.problem(path, message))
        elif pattern is not None:
            compiled.append(pattern)
            risky.extend(backtracking_problems(doc, path, text))
    if problems or not compiled:
        return problems + risky
    for family, example in MUST_BLOCK.items():
        if not any(p.search(example) for p in compiled):
            message = (
                f"no pattern blocks {family}, such as {example!r}; expected "
                "the shipped patterns of config/runner.yaml, or stricter ones"
            )
            at = ("security", "blocked_patterns")
            problems.append(doc.problem(at, message, severity="warning"))
    return problems + risky


def backtracking_problems(
    doc: Document, path: tuple[str | int, ...], text: str
) -> list[Problem]:
    """A warning when the pattern can backtrack catastrophically."""
    reason = backtracking_risk(text)
    if reason is None:
        return []
    message = (
        f"pattern {show(text)} can backtrack catastrophically: {reason}; "
        "expected loops whose parts cannot start alike, or a possessive x++ "
        "or atomic (?>...) group"
    )
    return [doc.problem(path, message, severity="warning")]


def compile_pattern(
    doc: Document, path: tuple[str | int, ...], text: str
) -> tuple[re.Pattern[str] | None, Problem | None]:
    """Compile one regular expression, or say where and why it does not."""
    try:
        return re.compile(text), None
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        reason = getattr(exc, "msg", None) or str(exc)
        where = getattr(exc, "pos", None)
        at = f" at position {where}" if where is not None else ""
        message = (
            f"pattern {show(text)} does not compile: {reason}{at}; "
            "expected a Python regular expression"
        )
        return None, doc.problem(path, message)


def _strings(value: Any) -> list[str]:
    """The entries of a list, with non-strings (a schema error) left as ''."""
    if not isinstance(value, list):
        return []
    return [item if isinstance(item, str) else "" for item in value]
