"""The ``rulegen`` command."""

from __future__ import annotations

import click

from rulegen import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rulegen")
def main() -> None:
    """Generate Prometheus rules, their tests, Alertmanager config and Grafana
    dashboards from one SLO spec."""
