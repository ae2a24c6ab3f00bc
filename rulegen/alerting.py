"""Alerting rules: each alert fires when any of its tiers burns, reading
only the recordings of its own SLO."""

from __future__ import annotations

from typing import Any

from rulegen import decimals, durations, eventcount, expressions, names
from rulegen.spec.model import SLO, Alert, EventCountSLI, Spec, Tier


def alerting_rule(spec: Spec, slo: SLO, alert: Alert) -> dict[str, Any]:
    labels = names.rule_labels(spec, slo)
    conditions = [_tier_condition(slo, tier, labels) for tier in alert.tiers]
    rule: dict[str, Any] = {
        "alert": alert.name,
        "expr": expressions.checked(expressions.any_of(conditions)),
    }
    if alert.for_:
        rule["for"] = durations.render(alert.for_)
    rule["labels"] = alert_labels(spec, slo, alert)
    rule["annotations"] = alert_annotations(slo, alert)
    return rule


def alert_labels(spec: Spec, slo: SLO, alert: Alert) -> dict[str, str]:
    """The labels rulegen adds to ``alert`` (its series add the aggregation
    labels)."""
    labels = {
        **names.rule_labels(spec, slo),
        names.SEVERITY: alert.severity,
        names.BURN_TYPE: alert.burn_type,
    }
    return dict(sorted(labels.items()))


def alert_annotations(slo: SLO, alert: Alert) -> dict[str, str]:
    return {
        names.DESCRIPTION: description(slo, alert),
        names.RUNBOOK_URL: alert.runbook_url,
        names.SUMMARY: alert.summary,
    }


def description(slo: SLO, alert: Alert) -> str:
    """What the alert checks, in words, from the same numbers as its rule."""
    if isinstance(slo.sli, EventCountSLI):
        parts = [
            f"more than {eventcount.allowed_events(t.threshold)} events over "
            f"{_windows(t)}"
            for t in alert.tiers
        ]
        budget = f"{slo.sli.max_events} per {durations.render(slo.period)}"
        return f"{_sentence(parts)} (budget: {budget})."
    assert slo.error_budget is not None
    parts = [
        f"error ratio above {decimals.render(t.threshold)} over {_windows(t)} "
        f"({decimals.render(t.burn_factor, 4)}x the error budget)"
        for t in alert.tiers
    ]
    budget = decimals.render(slo.error_budget)
    return f"{_sentence(parts)}; error budget {budget} over {_period(slo)}."


def _tier_condition(slo: SLO, tier: Tier, labels: dict[str, str]) -> str:
    if isinstance(slo.sli, EventCountSLI):
        counted = expressions.series(names.event_count(tier.long_window), labels)
        return expressions.above(counted, eventcount.firing_bound(tier.threshold))
    return expressions.all_of(
        [
            expressions.above(
                expressions.series(names.error_ratio(window), labels), tier.threshold
            )
            for window in tier.windows
        ]
    )


def _windows(tier: Tier) -> str:
    return " and ".join(durations.render(w) for w in tier.windows)


def _sentence(parts: list[str]) -> str:
    text = ", or ".join(parts)
    return text[0].upper() + text[1:]


def _period(slo: SLO) -> str:
    return durations.render(slo.period)
