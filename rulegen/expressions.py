"""PromQL building blocks for the generated rules.

Expressions are assembled from parsed selectors and names; ``checked``
parses every finished expression with promql-parser, so a generator bug
fails the build instead of shipping a rule Prometheus would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal

import promql_parser

from rulegen import decimals, durations
from rulegen.spec.model import Matcher, Selector


def quote(value: str) -> str:
    """A PromQL double-quoted string holding ``value`` exactly."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def selector(
    source: Selector, metric: str | None = None, extra: Sequence[Matcher] = ()
) -> str:
    """``source`` written back, optionally renamed and with more matchers."""
    matchers = [*source.matchers, *extra]
    inner = ", ".join(f"{m.name}{m.op}{quote(m.value)}" for m in matchers)
    name = metric or source.metric
    return f"{name}{{{inner}}}" if inner else name


def series(name: str, labels: Mapping[str, str]) -> str:
    """A recorded series selected by exact label values."""
    inner = ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def counted(source: str, window: timedelta, by: Sequence[str]) -> str:
    """Counter increments over ``window``, summed per aggregation label set."""
    grouping = f"sum by ({', '.join(by)}) " if by else "sum"
    return f"{grouping}(increase({source}[{durations.render(window)}]))"


def zero_where_absent(expr: str, fallback: str, by: Sequence[str]) -> str:
    """``expr``, or 0 for every label set ``fallback`` has and ``expr`` lacks."""
    return f"{expr}\nor on ({', '.join(by)})\n0 * {fallback}"


def summed(series_selector: str, window: timedelta, interval: timedelta) -> str:
    """Sum of the readings evaluated within the last ``window``.

    Prometheus 2.x includes a reading exactly ``window`` old, 3.x does not;
    a range half an interval short of ``window`` holds window / interval
    readings in both.
    """
    span = durations.render(window - interval / 2)
    return f"sum_over_time({series_selector}[{span}])"


def ratio(bad: str, total: str) -> str:
    """bad / total, with no result (not NaN) where total is 0."""
    return f"{bad}\n/\n({total} > 0)"


def above(expr: str, threshold: Decimal) -> str:
    return f"{expr} > {decimals.render(threshold)}"


def all_of(conditions: Sequence[str]) -> str:
    return "\nand\n".join(conditions)


def any_of(conditions: Sequence[str]) -> str:
    if len(conditions) == 1:
        return conditions[0]
    return "\nor\n".join(f"(\n{_indent(c)}\n)" for c in conditions)


def checked(expr: str) -> str:
    """``expr`` after promql-parser accepted it."""
    try:
        promql_parser.parse(expr)
    except ValueError as exc:
        message = f"rulegen built PromQL that does not parse: {exc}\n{expr}"
        raise RuntimeError(message) from exc
    return expr


def metrics_read(expr: str) -> set[str]:
    """Every metric name ``expr`` selects, found by parsing it."""
    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            found.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
