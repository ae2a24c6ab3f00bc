"""The validated watchdog config, as frozen dataclasses.

Loading and validation (``exporter.config.load``) produce a ``Config``;
everything else only reads it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Action = Literal["observe", "kill"]
LogFormat = Literal["text", "json"]


@dataclass(frozen=True)
class Timeouts:
    """Allowances in whole seconds."""

    stall_seconds: int
    hard_timeout_seconds: int
    kill_grace_seconds: int
    sample_interval_seconds: int


@dataclass(frozen=True)
class TimeoutOverrides:
    """An environment's replacements for base timeouts; None keeps the base."""

    stall_seconds: int | None = None
    hard_timeout_seconds: int | None = None
    kill_grace_seconds: int | None = None
    sample_interval_seconds: int | None = None


@dataclass(frozen=True)
class Environment:
    name: str
    scale: float  # multiplies every command type's stall and hard allowances
    timeouts: TimeoutOverrides


@dataclass(frozen=True)
class CommandType:
    """How a job's root process is recognised, and what its allowances are.

    A process matches when its executable name (``comm`` or argv[0]'s
    basename) is in ``executables`` or its command line matches
    ``argument_pattern``. Allowances left None inherit the environment's
    base timeouts.
    """

    name: str
    executables: tuple[str, ...]
    argument_pattern: re.Pattern[str] | None
    stall_seconds: int | None
    hard_timeout_seconds: int | None
    action: Action


@dataclass(frozen=True)
class RunnerAgent:
    """A CI runner agent whose descendants are jobs (GitHub Actions, ...)."""

    name: str
    executables: tuple[str, ...]
    argument_pattern: re.Pattern[str] | None


@dataclass(frozen=True)
class Allowance:
    """What applies to one command type in one environment."""

    stall_seconds: int
    hard_timeout_seconds: int
    kill_grace_seconds: int
    sample_interval_seconds: int
    action: Action


@dataclass(frozen=True)
class MetricsSettings:
    listen_address: str
    port: int
    path: str
    pushgateway_url: str | None
    service: str
    host: str  # resolved: the config's value or this host's name
    web_config_file: Path | None  # exporter-toolkit style TLS / basic auth


@dataclass(frozen=True)
class Rotation:
    max_file_bytes: int
    max_total_bytes: int
    retention_days: int


@dataclass(frozen=True)
class LoggingSettings:
    level: str
    format: LogFormat
    evidence_dir: Path
    rotation: Rotation


@dataclass(frozen=True)
class Security:
    allowed_commands: tuple[str, ...]
    blocked_patterns: tuple[re.Pattern[str], ...]
    allow_shell: bool  # a shell may run only when the config says so
    # Shell executable names that may run (``sh -c SCRIPT``, ``sh FILE``)
    # while allow_shell is true; see exporter.config.allowlist for entries.
    shells: tuple[str, ...] = ()

    def blocking_pattern(self, text: str) -> re.Pattern[str] | None:
        """The first blocked pattern found anywhere in ``text`` (a command
        line joined by single spaces, or a shell's ``-c`` script), if any."""
        for pattern in self.blocked_patterns:
            if pattern.search(text):
                return pattern
        return None


@dataclass(frozen=True)
class Config:
    source: Path  # the file it was read from
    timeouts: Timeouts
    environments: dict[str, Environment]
    default_environment: str
    command_types: dict[str, CommandType]  # in config order; "other" is implicit
    runners: tuple[RunnerAgent, ...]
    metrics: MetricsSettings
    logging: LoggingSettings
    security: Security

    def allowance(self, command_type: str, environment: str) -> Allowance:
        """Resolve the allowances for a command type (or ``other``) in an
        environment: environment overrides replace the base timeouts, and the
        environment's scale multiplies the stall and hard allowances."""
        env = self.environments[environment]
        base = _overridden(self.timeouts, env.timeouts)
        kind = self.command_types.get(command_type)
        stall = kind.stall_seconds if kind and kind.stall_seconds else None
        hard = kind.hard_timeout_seconds if kind and kind.hard_timeout_seconds else None
        return Allowance(
            stall_seconds=_scaled(stall, base.stall_seconds, env.scale),
            hard_timeout_seconds=_scaled(hard, base.hard_timeout_seconds, env.scale),
            kill_grace_seconds=base.kill_grace_seconds,
            sample_interval_seconds=base.sample_interval_seconds,
            action=kind.action if kind else "observe",
        )


def _overridden(base: Timeouts, over: TimeoutOverrides) -> Timeouts:
    return Timeouts(
        stall_seconds=over.stall_seconds or base.stall_seconds,
        hard_timeout_seconds=over.hard_timeout_seconds or base.hard_timeout_seconds,
        kill_grace_seconds=over.kill_grace_seconds or base.kill_grace_seconds,
        sample_interval_seconds=(
            over.sample_interval_seconds or base.sample_interval_seconds
        ),
    )


def _scaled(own: int | None, base: int, scale: float) -> int:
    """Own allowance, or the base one, scaled by the environment, in whole
    seconds (rounded up so a scale never shortens an allowance to zero)."""
    if own is not None:
        return math.ceil(own * scale)
    return math.ceil(base * scale)
