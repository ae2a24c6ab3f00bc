"""The ``runner-watchdog`` command: one group, one module per subcommand.

Subcommands are imported only when used, so ``run`` does not pay for the
HTTP server and ``--help`` stays quick.
"""

from __future__ import annotations

import importlib
import sys

import click

from exporter import __version__
from exporter.errors import WatchdogError

# name -> "module:attribute" of a click command or group.
SUBCOMMANDS: dict[str, str] = {
    "chaos": "exporter.commands.chaos_cmd:chaos_command",
    "config": "exporter.commands.config_cmd:config_group",
    "evidence": "exporter.commands.evidence_cmd:evidence_group",
    "report": "exporter.commands.report_cmd:report_group",
    "run": "exporter.commands.run_cmd:run_command",
    "serve": "exporter.commands.serve_cmd:serve_command",
}


class _LazyGroup(click.Group):
    """Loads subcommands on demand and turns our own errors into one line and
    an exit code, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *SUBCOMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS:
            return super().get_command(ctx, name)
        module_name, attribute = SUBCOMMANDS[name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except WatchdogError as exc:
            click.echo(f"runner-watchdog: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runner-watchdog")
def main() -> None:
    """Watch CI runner process trees for stalls, record evidence, act, and
    serve Prometheus metrics."""
