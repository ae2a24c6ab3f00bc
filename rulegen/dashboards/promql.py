"""PromQL for dashboard panels: selectors filtered by template variables,
and the check that every finished query parses once Grafana's variables
are replaced by values they could take."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import promql_parser

from rulegen import expressions

# Grafana's own variables, and a value each could take when a panel runs.
BUILTIN_SAMPLES = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1d",
}
# A multi-value selection as Grafana writes it into a regex matcher.
SELECTION_SAMPLE = "(ci|prod)"
_VARIABLE = re.compile(r"\$\{?(\w+)\}?")


def selector(
    metric: str,
    fixed: Mapping[str, str],
    filters: Sequence[str] = (),
    extra: Sequence[str] = (),
) -> str:
    """``metric`` with equality matchers for ``fixed``, a regex matcher on
    the variable of the same name for each label in ``filters``, then
    ``extra`` matchers as written."""
    matchers = [f"{name}={expressions.quote(value)}" for name, value in fixed.items()]
    matchers += [f'{label}=~"${label}"' for label in filters]
    matchers += list(extra)
    return f"{metric}{{{', '.join(matchers)}}}"


def substituted(expr: str) -> str:
    """``expr`` with every $variable replaced by a value it could take."""
    return _VARIABLE.sub(
        lambda m: BUILTIN_SAMPLES.get(m.group(1), SELECTION_SAMPLE), expr
    )


def checked(expr: str) -> str:
    """``expr`` after promql-parser accepted it with its variables filled in."""
    try:
        promql_parser.parse(substituted(expr))
    except ValueError as exc:
        message = f"rulegen built a panel query that does not parse: {exc}\n{expr}"
        raise RuntimeError(message) from exc
    return expr
