"""The ``runner-watchdog`` command: one group, one module per subcommand."""

from __future__ import annotations

import sys

import click

from exporter import __version__
from exporter.errors import WatchdogError


class _Group(click.Group):
    """Turns our own errors into one line and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except WatchdogError as exc:
            click.echo(f"runner-watchdog: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner-watchdog")
def main() -> None:
    """Watch CI runner process trees for stalls, record evidence, act, and
    serve Prometheus metrics."""
