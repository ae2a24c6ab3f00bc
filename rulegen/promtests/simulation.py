"""What the generated rules compute on a test's input, minute by minute.

Inputs are sampled every minute and every counter starts at 0, so each
``increase()`` reading over whole minutes is exact (Prometheus 2.x includes
the sample at the window's start; nothing is extrapolated). Fractions keep
the arithmetic exact. The scenarios use this to place their checks and to
make sure the formulas they state agree with what the rules will do.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import accumulate

from rulegen import eventcount
from rulegen.promtests.inputs import Traffic
from rulegen.spec.model import SLO, Alert, EventCountSLI, Tier

MINUTE = 60


class Simulation:
    """Recordings and alert states of one SLO's rules for ``traffic``."""

    def __init__(self, slo: SLO, traffic: Traffic) -> None:
        self.slo = slo
        self.step = _minutes(slo.interval.total_seconds())
        self.base = _minutes(slo.base_window.total_seconds())
        self.end = len(traffic.total)  # minutes of input after the first sample
        self._total = self._reading_sums(traffic.total)
        self._bad = self._reading_sums(traffic.bad)

    def ratio(self, window_minutes: int, at: int) -> Fraction | None:
        """The error ratio over the window at minute ``at``; None when no
        events (the rule records nothing then)."""
        total = self._window(self._total, window_minutes, at)
        if total == 0:
            return None
        return Fraction(self._window(self._bad, window_minutes, at), total)

    def count(self, window_minutes: int, at: int) -> Fraction:
        """Events over the window at minute ``at`` (event-count budgets)."""
        overlap = self.base // self.step
        return Fraction(self._window(self._total, window_minutes, at), overlap)

    def active(self, alert: Alert, at: int) -> bool:
        return any(self._tier_active(tier, at) for tier in alert.tiers)

    def firing(self, alert: Alert, at: int) -> bool:
        """Active at every evaluation of the last ``for`` (rounded up to
        whole evaluations), as Prometheus requires before firing."""
        hold = -(-_minutes(alert.for_.total_seconds()) // self.step) * self.step
        if at - hold < 0:
            return False
        return all(self.active(alert, t) for t in range(at - hold, at + 1, self.step))

    def first_firing(self, alert: Alert, start: int, stop: int) -> int | None:
        for at in range(start, stop + 1, self.step):
            if self.firing(alert, at):
                return at
        return None

    def _tier_active(self, tier: Tier, at: int) -> bool:
        if isinstance(self.slo.sli, EventCountSLI):
            counted = self.count(_minutes(tier.long_window.total_seconds()), at)
            return counted > Fraction(eventcount.firing_bound(tier.threshold))
        for window in tier.windows:
            ratio = self.ratio(_minutes(window.total_seconds()), at)
            if ratio is None or ratio <= Fraction(tier.threshold):
                return False
        return True

    def _reading_sums(self, increments: Sequence[int]) -> list[int]:
        """Prefix sums, over evaluations, of each base-window reading."""
        minutes = [0, *accumulate(increments)]
        readings = [0]
        for at in range(self.step, self.end + 1, self.step):
            readings.append(minutes[at] - minutes[max(0, at - self.base)])
        return [0, *accumulate(readings)]

    def _window(self, sums: list[int], window_minutes: int, at: int) -> int:
        """Sum of the readings evaluated in (at - window, at]."""
        last = at // self.step
        first = max(0, (at - window_minutes) // self.step)
        return sums[last + 1] - sums[first + 1]


def _minutes(seconds: float) -> int:
    return int(seconds) // MINUTE
