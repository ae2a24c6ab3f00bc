"""What a scenario reports, and how it fails.

A scenario returns an ``Outcome``: what it did, what it expected, what it
saw, how long detection took and the numbers behind it (``facts``, for the
JSON report). ``Verdict`` collects the expectations that did not hold; a
wait that gives up raises ``ScenarioFailed``, which the suite turns into a
failed outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.errors import WatchdogError


class LabError(WatchdogError):
    """The lab could not be set up or driven: no scenario could run."""

    exit_code = 1


class ScenarioFailed(Exception):
    """A scenario gave up: what it waited for did not happen in time."""


@dataclass(frozen=True)
class Outcome:
    scenario: str
    passed: bool
    did: str
    expected: str
    saw: str
    detection: str  # what was detected and how fast, in words
    detection_seconds: float | None  # the headline figure; None: nothing to detect
    facts: dict[str, object] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    def to_document(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "passed": self.passed,
            "did": self.did,
            "expected": self.expected,
            "saw": self.saw,
            "detection": self.detection,
            "detection_seconds": _rounded(self.detection_seconds),
            "facts": self.facts,
            "elapsed_seconds": _rounded(self.elapsed_seconds),
        }


class Verdict:
    """Expectations checked one by one; each one that fails says why."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def expect(self, holds: bool, otherwise: str) -> bool:
        if not holds:
            self.failures.append(otherwise)
        return holds

    @property
    def passed(self) -> bool:
        return not self.failures

    def saw(self, summary: str) -> str:
        """The summary, followed by every failed expectation."""
        return "; ".join([summary, *(f"FAILED: {f}" for f in self.failures)])


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)
