"""A thin, generic layer over grafanalib: Prometheus panels of the current
kinds (time series, stat, table) laid out in rows, template variables, and
the one serialiser (sorted keys, indent 2, trailing newline).

Nothing here knows the runner: the opinionated panels live beside it.
"""

from __future__ import annotations

import json
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grafanalib import core
from grafanalib._gen import DashboardEncoder

# Grafana 10.0's dashboard schema: importing an older one runs migrations
# written for panels this builder never emits.
SCHEMA_VERSION = 38
GRID_WIDTH = 24
ROW_HEIGHT = 1
DATASOURCE_VARIABLE = "datasource"
DATASOURCE = {"type": "prometheus", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
Thresholds = Sequence[tuple[str, float | None]]  # (colour, from value)


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False  # one value at the end of the range
    table: bool = False  # rows of label values, for table panels


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Panel:
    """What every panel kind shares; ``kind`` is timeseries, stat or table."""

    kind: str
    title: str
    description: str
    queries: Sequence[Query]
    unit: str = ""
    width: int = 12
    height: int = 8
    links: Sequence[Link] = ()
    thresholds: Thresholds = ()
    transformations: Sequence[dict[str, Any]] = ()
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    title: str
    panels: Sequence[Panel]


@dataclass(frozen=True)
class Variable:
    """A query variable filled from ``label_values(...)``, multi-valued."""

    name: str
    label: str
    query: str


@dataclass(frozen=True)
class Annotation:
    name: str
    expr: str
    title_format: str
    tag_keys: Sequence[str]
    colour: str = "red"


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    description: str
    tags: Sequence[str]
    variables: Sequence[Variable]
    rows: Sequence[Row]
    annotations: Sequence[Annotation] = ()
    time_from: str = "now-24h"


def render(board: Board) -> str:
    """The dashboard's JSON: sorted keys, indent 2, a trailing newline."""
    dashboard = core.Dashboard(
        title=board.title,
        uid=board.uid,
        description=board.description,
        tags=list(board.tags),
        editable=False,
        refresh="1m",
        schemaVersion=SCHEMA_VERSION,
        graphTooltip=core.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        time=core.Time(board.time_from, "now"),
        timezone="utc",
        templating=core.Templating(
            [_datasource_variable(), *map(_variable, board.variables)]
        ),
        annotations=core.Annotations([_annotation(a) for a in board.annotations]),
        panels=_layout(board.rows),
    )
    data = dashboard.to_json_data()
    return json.dumps(data, cls=DashboardEncoder, sort_keys=True, indent=2) + "\n"


def _layout(rows: Sequence[Row]) -> list[Any]:
    """Rows one under another; a row's panels left to right, wrapping."""
    panels: list[Any] = []
    y = 0
    for row in rows:
        panels.append(
            core.RowPanel(
                title=row.title,
                id=len(panels) + 1,
                gridPos=core.GridPos(h=ROW_HEIGHT, w=GRID_WIDTH, x=0, y=y),
            )
        )
        y += ROW_HEIGHT
        x, line_height = 0, 0
        for panel in row.panels:
            if x + panel.width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            grid = core.GridPos(h=panel.height, w=panel.width, x=x, y=y)
            panels.append(_panel(panel, len(panels) + 1, grid))
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return panels


def _panel(panel: Panel, panel_id: int, grid: core.GridPos) -> Any:
    common: dict[str, Any] = {
        "title": panel.title,
        "description": panel.description,
        "dataSource": DATASOURCE,
        "targets": _targets(panel.queries),
        "id": panel_id,
        "gridPos": grid,
        "links": [core.DataLink(link.title, link.url, True) for link in panel.links],
        "thresholds": _steps(panel.thresholds),
        "transformations": list(panel.transformations),
    }
    if panel.kind == "timeseries":
        return core.TimeSeries(unit=panel.unit, **common, **panel.options)
    if panel.kind == "stat":
        return core.Stat(format=panel.unit, **common, **panel.options)
    if panel.kind == "table":
        return core.Table(unit=panel.unit, **common, **panel.options)
    raise ValueError(f"unknown panel kind {panel.kind!r}")


def _targets(queries: Sequence[Query]) -> list[core.Target]:
    if len(queries) > len(string.ascii_uppercase):
        raise ValueError(f"{len(queries)} queries in one panel; at most 26")
    return [
        core.Target(
            expr=query.expr,
            legendFormat=query.legend,
            refId=ref,
            instant=query.instant,
            format=core.TABLE_TARGET_FORMAT
            if query.table
            else core.TIME_SERIES_TARGET_FORMAT,
            intervalFactor=1,
            datasource=DATASOURCE,
        )
        for query, ref in zip(queries, string.ascii_uppercase, strict=False)
    ]


def _steps(thresholds: Thresholds) -> list[dict[str, Any]]:
    if not thresholds:
        return [{"color": "green", "value": None}]
    return [{"color": colour, "value": value} for colour, value in thresholds]


def _datasource_variable() -> core.Template:
    return core.Template(
        name=DATASOURCE_VARIABLE,
        label="Data source",
        query="prometheus",
        type="datasource",
    )


def _variable(variable: Variable) -> core.Template:
    return core.Template(
        name=variable.name,
        label=variable.label,
        query=variable.query,
        dataSource=DATASOURCE,
        default="$__all",
        includeAll=True,
        multi=True,
        allValue=".*",
        refresh=core.REFRESH_ON_TIME_RANGE_CHANGE,
    )


def _annotation(annotation: Annotation) -> dict[str, Any]:
    return {
        "datasource": DATASOURCE,
        "enable": True,
        "expr": annotation.expr,
        "iconColor": annotation.colour,
        "name": annotation.name,
        "step": "1m",
        "tagKeys": ",".join(annotation.tag_keys),
        "titleFormat": annotation.title_format,
        "useValueForTime": False,
    }
