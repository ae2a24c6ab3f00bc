"""Grafana dashboards generated from the spec: the SLO dashboard for every
spec, and the fleet and exporter-health dashboards when the spec reads the
exporter's metric contract. ``builder`` is the generic grafanalib layer; the
other modules hold our opinionated panels."""

from __future__ import annotations

from pathlib import PurePosixPath

from rulegen import names
from rulegen.artifacts import Artifact
from rulegen.dashboards.builder import Board, render
from rulegen.dashboards.contract_queries import reads_the_contract
from rulegen.dashboards.exporter_health import exporter_board
from rulegen.dashboards.fleet import fleet_board
from rulegen.dashboards.slo_overview import slo_board
from rulegen.spec.model import Spec


def boards(spec: Spec) -> list[Board]:
    found = [slo_board(spec)]
    if reads_the_contract(spec):
        found += [fleet_board(spec), exporter_board(spec)]
    return found


def dashboard_files(spec: Spec) -> list[Artifact]:
    return [
        Artifact(PurePosixPath(names.dashboard_file(board.uid)), render(board))
        for board in boards(spec)
    ]
