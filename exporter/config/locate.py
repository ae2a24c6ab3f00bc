"""Which config file a command reads, and which environment a host is in.

The config: ``--config FILE``, else $RUNNER_WATCHDOG_CONFIG, else
/etc/runner-watchdog/runner.yaml when it exists, else the shipped default
(``config/runner.yaml`` of a source checkout, or its copy inside the
installed package). The environment: ``--env``, else $RUNNER_WATCHDOG_ENV,
else the config's ``environments.default``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from exporter.config.model import Config
from exporter.errors import InvalidInputError

CONFIG_ENV_VAR = "RUNNER_WATCHDOG_CONFIG"
ENVIRONMENT_ENV_VAR = "RUNNER_WATCHDOG_ENV"
SYSTEM_CONFIG = Path("/etc/runner-watchdog/runner.yaml")
SHIPPED_NAME = "runner.yaml"


@dataclass(frozen=True)
class ConfigSource:
    path: Path
    origin: str  # how it was chosen, for the "config: ..." line

    def describe(self) -> str:
        return f"config: {self.path} ({self.origin})"


def resolve_config_source(flag: str | None) -> ConfigSource:
    """The config file to read, and why that one."""
    if flag:
        return ConfigSource(Path(flag), "from --config")
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return ConfigSource(Path(from_env), f"from ${CONFIG_ENV_VAR}")
    if SYSTEM_CONFIG.exists():
        return ConfigSource(SYSTEM_CONFIG, "system config")
    return ConfigSource(shipped_config_path(), "shipped default")


def resolve_config_path(flag: str | None) -> Path:
    return resolve_config_source(flag).path


def shipped_config_path() -> Path:
    """``config/runner.yaml`` of the source checkout this package runs from,
    or the identical copy installed with the package."""
    checkout = Path(__file__).resolve().parents[2]
    in_checkout = checkout / "config" / SHIPPED_NAME
    if (checkout / "pyproject.toml").is_file() and in_checkout.is_file():
        return in_checkout
    return Path(str(resources.files(__package__).joinpath(SHIPPED_NAME)))


def resolve_environment(config: Config, flag: str | None) -> str:
    """The environment name this host runs in; one the config defines."""
    if flag:
        name, origin = flag, "from --env"
    elif os.environ.get(ENVIRONMENT_ENV_VAR):
        name, origin = os.environ[ENVIRONMENT_ENV_VAR], f"from ${ENVIRONMENT_ENV_VAR}"
    else:
        return config.default_environment
    if name not in config.environments:
        known = ", ".join(config.environments)
        raise InvalidInputError(
            f"environment {name!r} ({origin}) is not defined in {config.source}; "
            f"expected one of {known}"
        )
    return name
