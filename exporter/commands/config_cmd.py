"""``runner-watchdog config``: validate a config, show what it resolves to."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click

from exporter.config import (
    ENVIRONMENT_ENV_VAR,
    Config,
    ConfigSource,
    ConfigUnreadable,
    config_option,
    env_option,
    load_config,
    resolve_config_source,
    resolve_environment,
    validate_config,
)
from exporter.contract import OTHER_COMMAND_TYPE
from yamlsource import errors, warnings

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


@click.group("config")
def config_group() -> None:
    """Check and inspect the watchdog config."""


@config_group.command("validate")
@click.option(
    "--strict", is_flag=True, help="Also refuse unknown keys and every warning."
)
@click.argument("file", required=False, metavar="[FILE]")
@click.pass_context
def validate(ctx: click.Context, strict: bool, file: str | None) -> None:
    """Check FILE (default: the config commands would read) and list every
    problem with file:line:column, key path, bad value and what is accepted.

    Exit 0 when valid, 1 when invalid, 2 when unreadable or not YAML.
    """
    if file:
        source = ConfigSource(Path(file), "from the command line")
    else:
        source = resolve_config_source(None)
    click.echo(source.describe(), err=True)

    try:
        config, problems = validate_config(source.path, strict)
    except ConfigUnreadable as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(f"unreadable: {source.path}")
        ctx.exit(EXIT_UNREADABLE)

    for problem in problems:
        click.echo(str(problem))
    counts = f"{_count(errors(problems), 'error')}, "
    counts += _count(warnings(problems), "warning")
    if config is None:
        click.echo(f"invalid: {source.path} ({counts})")
        ctx.exit(EXIT_INVALID)
    mode = " --strict" if strict else ""
    click.echo(f"valid{mode}: {source.path} ({counts})")


@config_group.command("show")
@config_option
@env_option
def show(config_path: Path, env_flag: str | None) -> None:
    """Print the allowances every command type gets: in the environment given
    by --env or $RUNNER_WATCHDOG_ENV, else in every environment."""
    config = load_config(config_path)
    if env_flag or os.environ.get(ENVIRONMENT_ENV_VAR):
        names = [resolve_environment(config, env_flag)]
    else:
        names = list(config.environments)
    click.echo(_allowance_table(config, names))


def _allowance_table(config: Config, environments: list[str]) -> str:
    header = ("environment", "command_type", "stall_s", "hard_s", "grace_s")
    rows: list[tuple[str, ...]] = [(*header, "sample_s", "action")]
    for env in environments:
        label = f"{env} (default)" if env == config.default_environment else env
        for kind in [*config.command_types, OTHER_COMMAND_TYPE]:
            a = config.allowance(kind, env)
            values = (a.stall_seconds, a.hard_timeout_seconds, a.kill_grace_seconds)
            rows.append(
                (
                    label,
                    kind,
                    *map(str, values),
                    str(a.sample_interval_seconds),
                    a.action,
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


def _count(items: Sequence[object], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
