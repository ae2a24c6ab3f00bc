"""Click options every command that reads the config shares."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from exporter.config.locate import (
    CONFIG_ENV_VAR,
    ENVIRONMENT_ENV_VAR,
    resolve_config_source,
)

F = TypeVar("F", bound=Callable[..., Any])


def _announce(ctx: click.Context, param: click.Parameter, value: str | None) -> Path:
    source = resolve_config_source(value)
    with contextlib.suppress(OSError):  # a full stderr is no reason to refuse
        click.echo(source.describe(), err=True)
    return source.path


def config_option(command: F) -> F:
    """``--config FILE``: passes ``config_path: Path`` (resolved as in
    exporter.config.locate) and says on stderr which file and why."""
    decorate = click.option(
        "--config",
        "config_path",
        metavar="FILE",
        callback=_announce,
        help=(
            f"Config file [default: ${CONFIG_ENV_VAR}, else "
            "/etc/runner-watchdog/runner.yaml, else the shipped config/runner.yaml]"
        ),
    )
    return decorate(command)


def env_option(command: F) -> F:
    """``--env NAME``: passes ``env_flag: str | None``; resolve it with
    ``exporter.config.resolve_environment(config, env_flag)``."""
    decorate = click.option(
        "--env",
        "env_flag",
        metavar="NAME",
        default=None,
        help=(
            f"Environment [default: ${ENVIRONMENT_ENV_VAR}, "
            "else the config's environments.default]"
        ),
    )
    return decorate(command)
