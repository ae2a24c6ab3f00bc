"""What one exporter run works with: the validated config, the host's
environment, and what follows from the two (label values, allowances).

A reload builds a new ``WatchSettings`` and swaps it in whole, so a sample
never mixes two configs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.config.model import Allowance, Config
from exporter.contract import OTHER_COMMAND_TYPE


@dataclass(frozen=True)
class Scope:
    """The label values of this exporter's job-level series."""

    service: str
    environment: str
    host: str
    command_types: tuple[str, ...]  # configured ones, then "other"

    def command_type(self, name: object) -> str:
        """``name`` when it is a known command type, else ``other``: label
        values stay within the configured set whatever an event says."""
        if isinstance(name, str) and name in self.command_types:
            return name
        return OTHER_COMMAND_TYPE

    def job_labels(self, command_type: str) -> tuple[str, str, str, str]:
        return (self.service, self.environment, self.host, command_type)


@dataclass(frozen=True)
class WatchSettings:
    config: Config
    environment: str
    scope: Scope = field(init=False)
    _allowances: dict[str, Allowance] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        types = (*self.config.command_types, OTHER_COMMAND_TYPE)
        metrics = self.config.metrics
        scope = Scope(metrics.service, self.environment, metrics.host, types)
        allowances = {
            name: self.config.allowance(name, self.environment) for name in types
        }
        object.__setattr__(self, "scope", scope)
        object.__setattr__(self, "_allowances", allowances)

    def allowance(self, command_type: str) -> Allowance:
        return self._allowances[self.scope.command_type(command_type)]

    @property
    def sample_interval_seconds(self) -> int:
        return self._allowances[OTHER_COMMAND_TYPE].sample_interval_seconds
