"""The watchdog config: where it is, how it is validated, what it holds.

config = load_config(resolve_config_path(flag))
environment = resolve_environment(config, env_flag)
allowance = config.allowance("test", environment)
"""

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
