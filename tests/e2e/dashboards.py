"""Every query a Grafana dashboard would send: panel targets, annotation
queries and template-variable queries, with the variables substituted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Grafana's own variables, as it would fill them for a one-hour view.
BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
_LABEL_VALUES = re.compile(
    r"^label_values\((?P<selector>.+),\s*(?P<label>\w+)\)$", re.S
)


@dataclass(frozen=True)
class DashboardQuery:
    dashboard: str
    where: str  # panel title, "annotation ..." or "variable ..."
    expr: str

    def substituted(self, values: Mapping[str, str]) -> str:
        known = {**BUILTINS, **values}

        def replace(match: re.Match[str]) -> str:
            name = next(group for group in match.groups() if group)
            return known.get(name, match.group(0))

        return _VARIABLE.sub(replace, self.expr)


def dashboard_queries(path: Path) -> list[DashboardQuery]:
    board = json.loads(path.read_text())
    found = [
        DashboardQuery(path.name, panel.get("title", "?"), target["expr"])
        for panel in _panels(board)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
    for annotation in board.get("annotations", {}).get("list", []):
        if annotation.get("expr"):
            where = f"annotation {annotation.get('name')}"
            found.append(DashboardQuery(path.name, where, annotation["expr"]))
    for variable in board.get("templating", {}).get("list", []):
        expr = _variable_expr(variable)
        if expr:
            where = f"variable {variable.get('name')}"
            found.append(DashboardQuery(path.name, where, expr))
    return found


def _panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    stack = [*board.get("panels", [])]
    for row in board.get("rows", []):
        stack.extend(row.get("panels", []))
    while stack:
        panel = stack.pop()
        yield panel
        stack.extend(panel.get("panels", []))


def _variable_expr(variable: dict[str, Any]) -> str | None:
    """A query variable's ``label_values(SELECTOR, label)`` as the instant
    query Grafana's lookup amounts to."""
    if variable.get("type") != "query":
        return None
    query = variable.get("query")
    text = query.get("query") if isinstance(query, dict) else query
    match = _LABEL_VALUES.match(str(text or "").strip())
    if match is None:
        return str(text) if text else None
    return f"count by ({match['label']}) ({match['selector']})"
