"""The ``rulegen`` command: ``build`` and ``check``, one module each."""

from __future__ import annotations

import logging
import sys

import click

from exporter.errors import WatchdogError
from rulegen import __version__
from rulegen.build import build
from rulegen.check import check


class _Group(click.Group):
    """Turns our own errors into their message and exit code, never a
    traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except WatchdogError as exc:
            click.echo(f"rulegen: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rulegen")
@click.option("-v", "--verbose", is_flag=True, help="Log each file written or removed.")
def main(verbose: bool) -> None:
    """Generate Prometheus rules, their tests, Alertmanager config and Grafana
    dashboards from one SLO spec."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="rulegen: %(message)s",
    )


main.add_command(build)
main.add_command(check)
