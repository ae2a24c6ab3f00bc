"""Burn-rate tiers: the multi-window, multi-burn-rate preset and the rule
that decides whether a tier can ever fire.

A burn factor f over a window W means the error ratio over W exceeds f times
the error budget: at that pace the budget of the whole period would be gone
after period / f.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal

PresetClass = Literal["fast", "slow"]
PRESET_CLASSES: tuple[PresetClass, ...] = ("fast", "slow")


@dataclass(frozen=True)
class PresetTier:
    burn_type: PresetClass
    burn_factor: Decimal
    long_window: timedelta  # for a 30-day budget period
    budget_consumed: Decimal  # share of the period's budget gone at detection


# Source: Google SRE Workbook, chapter 5 "Alerting on SLOs", section
# "Multiwindow, Multi-Burn-Rate Alerts", for a 30-day budget period: page on
# 14.4x over 1h (2% of the budget spent) and 6x over 6h (5%), ticket on 1x
# over 3d (10%); each long window paired with a short one of a twelfth. The
# 3x over 1d ticket tier (10%) is the one slok/sloth's default 30-day window
# set adds between them.
REFERENCE_PERIOD = timedelta(days=30)
SHORT_WINDOW_DIVISOR = 12
PRESET: tuple[PresetTier, ...] = (
    PresetTier("fast", Decimal("14.4"), timedelta(hours=1), Decimal("0.02")),
    PresetTier("fast", Decimal("6"), timedelta(hours=6), Decimal("0.05")),
    PresetTier("slow", Decimal("3"), timedelta(days=1), Decimal("0.10")),
    PresetTier("slow", Decimal("1"), timedelta(days=3), Decimal("0.10")),
)


@dataclass(frozen=True)
class ScaledTier:
    burn_factor: Decimal
    long_window: timedelta
    short_window: timedelta


def scale(tier: PresetTier, period: timedelta, base_window: timedelta) -> ScaledTier:
    """The tier for a budget ``period``: windows shrink or grow with the
    period, so the factor (budget consumed x period / long window) stays.

    Windows are rounded to whole base windows, at least one.
    """
    ratio = period / REFERENCE_PERIOD
    long_window = _round_to(tier.long_window * ratio, base_window)
    short_window = _round_to(long_window / SHORT_WINDOW_DIVISOR, base_window)
    return ScaledTier(tier.burn_factor, long_window, short_window)


def can_fire(burn_factor: Decimal, error_budget: Decimal) -> bool:
    """An error ratio never exceeds 1, so a threshold of 1 or more never fires
    (14.4x on an SLO that allows 20% failures asks for a 288% error ratio)."""
    return burn_factor * error_budget < 1


def _round_to(window: timedelta, step: timedelta) -> timedelta:
    steps = max(1, round(window / step))
    return steps * step
