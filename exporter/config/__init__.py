"""The watchdog config: where it is, how it is validated, what it holds.

    config = load_config(resolve_config_path(flag))
    environment = resolve_environment(config, env_flag)
    allowance = config.allowance("test", environment)

Names are imported on first use, so a module that needs only the dataclasses
(``exporter.config.model``) does not pay for jsonschema and ruamel.yaml.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exporter.config.errors import ConfigInvalid, ConfigUnreadable
    from exporter.config.load import load_config, validate_config, validate_text
    from exporter.config.locate import (
        CONFIG_ENV_VAR,
        ENVIRONMENT_ENV_VAR,
        ConfigSource,
        resolve_config_path,
        resolve_config_source,
        resolve_environment,
        shipped_config_path,
    )
    from exporter.config.model import (
        Action,
        Allowance,
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
    from exporter.config.options import config_option, env_option

_HOMES = {
    "exporter.config.errors": ["ConfigInvalid", "ConfigUnreadable"],
    "exporter.config.load": ["load_config", "validate_config", "validate_text"],
    "exporter.config.locate": [
        "CONFIG_ENV_VAR",
        "ENVIRONMENT_ENV_VAR",
        "ConfigSource",
        "resolve_config_path",
        "resolve_config_source",
        "resolve_environment",
        "shipped_config_path",
    ],
    "exporter.config.model": [
        "Action",
        "Allowance",
        "CommandType",
        "Config",
        "Environment",
        "LoggingSettings",
        "MetricsSettings",
        "Rotation",
        "RunnerAgent",
        "Security",
        "TimeoutOverrides",
        "Timeouts",
    ],
    "exporter.config.options": ["config_option", "env_option"],
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "CONFIG_ENV_VAR",
    "ENVIRONMENT_ENV_VAR",
    "Action",
    "Allowance",
    "CommandType",
    "Config",
    "ConfigInvalid",
    "ConfigSource",
    "ConfigUnreadable",
    "Environment",
    "LoggingSettings",
    "MetricsSettings",
    "Rotation",
    "RunnerAgent",
    "Security",
    "TimeoutOverrides",
    "Timeouts",
    "config_option",
    "env_option",
    "load_config",
    "resolve_config_path",
    "resolve_config_source",
    "resolve_environment",
    "shipped_config_path",
    "validate_config",
    "validate_text",
]


def __getattr__(name: str) -> object:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
