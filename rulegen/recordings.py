"""Recording rules: event counts per base window, then every window an
alert reads, built from sums of those counts.

Counts, not ratios, are what get recorded: a long window's error ratio is
then the sum of bad counts over the sum of all counts, so a quiet hour
weighs as little as it should, and no long window ranges over raw counters.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rulegen import expressions, names
from rulegen.spec.model import (
    SLO,
    EventCountSLI,
    EventsRatioSLI,
    LatencySLI,
    Matcher,
    Spec,
)


def recording_rules(spec: Spec, slo: SLO) -> list[dict[str, Any]]:
    """Every recording of ``slo``, each after the recordings it reads."""
    labels = names.rule_labels(spec, slo)
    if isinstance(slo.sli, EventCountSLI):
        return _event_count_rules(slo, slo.sli, labels)
    return _ratio_rules(slo, labels)


def bucket_bounds(threshold: Decimal) -> tuple[str, ...]:
    """How exporters spell a bucket bound: Go clients write 60, Python
    clients 60.0 (for bounds from 1e-4 up to 1e6)."""
    python = repr(float(threshold))
    go = python.removesuffix(".0")
    return tuple(sorted({go, python}))


def _ratio_rules(slo: SLO, labels: dict[str, str]) -> list[dict[str, Any]]:
    total, bad = _sli_counts(slo)
    events = expressions.series(names.events(slo), labels)
    bad_events = expressions.series(names.bad_events(slo), labels)
    rules = [
        _record(names.events(slo), total, labels),
        _record(
            names.bad_events(slo),
            expressions.zero_where_absent(bad, events, slo.aggregate_by),
            labels,
        ),
    ]
    for window in slo.windows:
        if window == slo.base_window:
            expr = expressions.ratio(bad_events, events)
        else:
            expr = expressions.ratio(
                expressions.summed(bad_events, window, slo.interval),
                expressions.summed(events, window, slo.interval),
            )
        rules.append(_record(names.error_ratio(window), expr, labels))
    return rules


def _sli_counts(slo: SLO) -> tuple[str, str]:
    """(all events, bad events) per base window, aggregated.

    Known gap: increase() cannot see the first event of a counter series that
    appears already at 1; the exporter has to create its series at 0.
    """
    by, window = slo.aggregate_by, slo.base_window
    sli = slo.sli
    if isinstance(sli, EventsRatioSLI):
        total = expressions.counted(expressions.selector(sli.total), window, by)
        bad = expressions.counted(expressions.selector(sli.bad), window, by)
        return total, bad
    assert isinstance(sli, LatencySLI)
    count = sli.histogram.metric + names.COUNT_SUFFIX
    bucket = sli.histogram.metric + names.BUCKET_SUFFIX
    bound = "|".join(
        b.replace(".", "\\.") for b in bucket_bounds(sli.threshold_seconds)
    )
    fast_enough = Matcher(names.BUCKET_BOUND, "=~", bound)
    total = expressions.counted(expressions.selector(sli.histogram, count), window, by)
    good = expressions.counted(
        expressions.selector(sli.histogram, bucket, [fast_enough]), window, by
    )
    return total, f"{total}\n-\n{good}"


def _event_count_rules(
    slo: SLO, sli: EventCountSLI, labels: dict[str, str]
) -> list[dict[str, Any]]:
    source = expressions.selector(sli.events)
    events = expressions.series(names.events(slo), labels)
    # Readings overlap base_window / interval times; see rulegen.eventcount.
    overlap = slo.base_window // slo.interval
    rules = [
        _record(
            names.events(slo),
            expressions.counted(source, slo.base_window, slo.aggregate_by),
            labels,
        )
    ]
    for window in slo.windows:
        expr = expressions.summed(events, window, slo.interval)
        if overlap != 1:
            expr = f"{expr} / {overlap}"
        rules.append(_record(names.event_count(window), expr, labels))
    return rules


def _record(name: str, expr: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"record": name, "expr": expressions.checked(expr), "labels": labels}
