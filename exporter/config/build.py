"""Turn validated config data (defaults filled in) into the ``Config``
dataclasses. Only called on data that passed every check, so it never
reports problems itself."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

from exporter.config.model import (
    CommandType,
    Config,
    Environment,
    LoggingSettings,
    MetricsSettings,
    Rotation,
    RunnerAgent,
    Security,
    TimeoutOverrides,
    Timeouts,
)


def build_config(data: dict[str, Any], source: Path, cwd: Path) -> Config:
    """``source`` is the config file (relative web config paths start from its
    directory); ``cwd`` is where a relative evidence directory starts."""
    environments = dict(data["environments"])
    default = environments.pop("default")
    return Config(
        source=source,
        timeouts=Timeouts(**data["timeouts"]),
        environments={
            name: _environment(name, settings)
            for name, settings in environments.items()
        },
        default_environment=default,
        command_types={
            name: _command_type(name, settings)
            for name, settings in data["command_types"].items()
        },
        runners=tuple(_runner(runner) for runner in data["runners"]),
        metrics=_metrics(data["metrics"], source.parent),
        logging=_logging(data["logging"], cwd),
        security=_security(data["security"]),
    )


def _environment(name: str, settings: dict[str, Any]) -> Environment:
    return Environment(
        name=name,
        scale=float(settings["scale"]),
        timeouts=TimeoutOverrides(**settings["timeouts"]),
    )


def _command_type(name: str, settings: dict[str, Any]) -> CommandType:
    return CommandType(
        name=name,
        executables=tuple(settings.get("executables", ())),
        argument_pattern=_pattern(settings.get("argument_pattern")),
        stall_seconds=settings.get("stall_seconds"),
        hard_timeout_seconds=settings.get("hard_timeout_seconds"),
        action=settings["action"],
    )


def _runner(settings: dict[str, Any]) -> RunnerAgent:
    return RunnerAgent(
        name=settings["name"],
        executables=tuple(settings.get("executables", ())),
        argument_pattern=_pattern(settings.get("argument_pattern")),
    )


def _metrics(settings: dict[str, Any], config_dir: Path) -> MetricsSettings:
    web_config = settings["web_config_file"]
    return MetricsSettings(
        listen_address=settings["listen_address"],
        port=settings["port"],
        path=settings["path"],
        pushgateway_url=settings["pushgateway_url"],
        service=settings["service"],
        host=settings["host"] or socket.gethostname(),
        web_config_file=config_dir / web_config if web_config else None,
    )


def _logging(settings: dict[str, Any], cwd: Path) -> LoggingSettings:
    rotation = settings["rotation"]
    return LoggingSettings(
        level=settings["level"],
        format=settings["format"],
        evidence_dir=cwd / settings["evidence_dir"],
        rotation=Rotation(
            max_file_bytes=rotation["max_file_bytes"],
            max_total_bytes=rotation["max_total_bytes"],
            retention_days=rotation["retention_days"],
        ),
    )


def _security(settings: dict[str, Any]) -> Security:
    return Security(
        allowed_commands=tuple(settings["allowed_commands"]),
        blocked_patterns=tuple(re.compile(p) for p in settings["blocked_patterns"]),
        allow_shell=settings["allow_shell"],
        shells=tuple(settings["shells"]),
    )


def _pattern(text: str | None) -> re.Pattern[str] | None:
    return re.compile(text) if text else None
