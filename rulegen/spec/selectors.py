"""Spec selectors, read with a PromQL parser (promql-parser), never by regex."""

from __future__ import annotations

from typing import Any

import promql_parser

from rulegen.spec.fields import Source, describe
from rulegen.spec.model import Matcher, MatchOp, Selector
from yamlsource import KeyPath

ACCEPTED = (
    "a PromQL selector: one metric name with optional label matchers, such as "
    'spark_runner_stalls_total{service="runner"}'
)
_OPS: tuple[tuple[Any, MatchOp], ...] = (
    (promql_parser.MatchOp.Equal, "="),
    (promql_parser.MatchOp.NotEqual, "!="),
    (promql_parser.MatchOp.Re, "=~"),
    (promql_parser.MatchOp.NotRe, "!~"),
)


def selector(src: Source, path: KeyPath, value: Any) -> Selector | None:
    """Parse ``value`` as a plain selector; record why not when it is not one."""
    if not isinstance(value, str):
        src.error(path, f"{describe(value)} is not a selector; accepted: {ACCEPTED}")
        return None
    try:
        parsed: Any = promql_parser.parse(value)
    except ValueError as exc:
        src.error(
            path, f"{value!r} does not parse as PromQL ({exc}); accepted: {ACCEPTED}"
        )
        return None
    reason = _not_plain(parsed)
    if reason:
        src.error(path, f"{value!r} is {reason}; accepted: {ACCEPTED}")
        return None
    matchers = tuple(
        Matcher(m.name, _op(m.op), m.value) for m in parsed.matchers.matchers
    )
    return Selector(parsed.name, matchers)


def _not_plain(parsed: Any) -> str | None:
    if not isinstance(parsed, promql_parser.VectorSelector):
        return f"an expression ({type(parsed).__name__}), not a selector"
    if not parsed.name:
        return "a selector without a metric name"
    if parsed.offset is not None or parsed.at is not None:
        return "a selector with an offset or @ modifier"
    if parsed.matchers.or_matchers:
        return "a selector with 'or' between matchers"
    if any(m.name == "__name__" for m in parsed.matchers.matchers):
        return "a selector that matches __name__ as a label"
    return None


def _op(parsed: Any) -> MatchOp:
    for candidate, op in _OPS:
        if parsed == candidate:
            return op
    raise AssertionError(f"unknown matcher operator {parsed!r}")
