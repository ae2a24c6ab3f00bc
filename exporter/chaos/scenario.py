"""What a scenario is to the suite: a name, a one-line title, what it would
start (for ``--dry-run``) and how it runs in a lab."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exporter.chaos.lab import Lab
from exporter.chaos.outcome import Outcome

DEFAULT_BURST_JOBS = 20


@dataclass(frozen=True)
class ChaosSettings:
    burst_jobs: int = DEFAULT_BURST_JOBS


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    plan: Callable[[ChaosSettings], list[str]]  # what it would start
    run: Callable[[Lab, ChaosSettings], Outcome]
