"""The SLO dashboard, from the spec alone: for each SLO its SLI over the
budget period beside the objective, the error budget left, the burn rate
of each alert tier now and over time, and links to the alerts' runbooks.

Every query reads rulegen's own recordings, never raw counters: the period
totals are sums of the recorded per-base-window counts, as the rules build
their windows. Burn rates take the worst aggregation label set selected,
since each label set alerts on its own.
"""

from __future__ import annotations

from decimal import Decimal

from rulegen import decimals, durations, expressions, names
from rulegen.alertmanager.notifications import aggregation_labels
from rulegen.dashboards import promql
from rulegen.dashboards.builder import (
    Annotation,
    Board,
    Link,
    Panel,
    Query,
    Row,
    Thresholds,
    Variable,
)
from rulegen.spec.model import SLO, EventCountSLI, Spec, Tier

BURN_UNIT = "suffix:x"  # Grafana's custom unit: 14.4x
STAT_OPTIONS = {"graphMode": "none", "reduceCalc": "lastNotNull"}


def slo_board(spec: Spec) -> Board:
    return Board(
        uid=names.slo_dashboard_uid(spec),
        title=f"{spec.service}: SLOs and error budgets",
        description=names.DASHBOARD_HEADER.format(spec=spec.file),
        tags=("rulegen", spec.service, "slo"),
        variables=variables(spec),
        rows=[_overview_row(spec, slo) for slo in spec.slos]
        + [Row("Burn-rate trends", [_trend_panel(spec, slo) for slo in spec.slos])],
        annotations=[_firing_alerts(spec)],
        time_from="now-7d",
    )


def variables(spec: Spec) -> list[Variable]:
    """One per aggregation label, filled from the first SLO that has it."""
    found = []
    for label in aggregation_labels(spec):
        slo = next(s for s in spec.slos if label in s.aggregate_by)
        source = promql.selector(names.events(slo), names.rule_labels(spec, slo))
        query = f"label_values({source}, {label})"
        found.append(Variable(label, label.replace("_", " ").capitalize(), query))
    return found


def _overview_row(spec: Spec, slo: SLO) -> Row:
    links = _runbook_links(slo)
    counting = isinstance(slo.sli, EventCountSLI)
    sli = Panel(
        kind="stat",
        title="Events in the period" if counting else "SLI and objective",
        description=_sli_description(slo),
        queries=_sli_queries(spec, slo),
        unit="none" if counting else "percentunit",
        width=8,
        height=6,
        links=links,
        options={**STAT_OPTIONS, "decimals": 0 if counting else 3},
    )
    budget = Panel(
        kind="stat",
        title="Error budget left",
        description=(
            f"Share of the {durations.render(slo.period)} error budget not spent "
            "yet; below 0 the objective is missed."
        ),
        queries=[Query(f"1 - {_spent(spec, slo)}", "budget left", instant=True)],
        unit="percentunit",
        width=8,
        height=6,
        links=links,
        thresholds=[("red", None), ("orange", 0.0), ("green", 0.25)],
        options={**STAT_OPTIONS, "decimals": 1},
    )
    burn = Panel(
        kind="stat",
        title="Burn rate now",
        description=(
            "How fast each alert tier's window spends the budget, in multiples "
            "of the pace that spends exactly all of it in the period; the "
            "worst label set selected."
        ),
        queries=[
            Query(query.expr, query.legend, instant=True)
            for query in _burn_queries(spec, slo)
        ],
        unit=BURN_UNIT,
        width=8,
        height=6,
        links=links,
        thresholds=_burn_thresholds(slo),
        options={**STAT_OPTIONS, "decimals": 2},
    )
    title = f"SLO {slo.name}" + (f": {slo.description}" if slo.description else "")
    return Row(title, [sli, budget, burn])


def _trend_panel(spec: Spec, slo: SLO) -> Panel:
    return Panel(
        kind="timeseries",
        title=f"{slo.name}: burn rate per alert tier",
        description=(
            f"Burn rate of each window the alerts of {slo.name} read; a tier "
            "fires when its windows stay above its line (the threshold lines are "
            "the tiers' burn factors)."
        ),
        queries=_burn_queries(spec, slo),
        unit=BURN_UNIT,
        links=_runbook_links(slo),
        thresholds=_burn_thresholds(slo),
        options={"thresholdsStyleMode": "line"},
    )


def _sli_queries(spec: Spec, slo: SLO) -> list[Query]:
    if isinstance(slo.sli, EventCountSLI):
        return [
            Query(_period_events(spec, slo), "events", instant=True),
            Query(promql.checked(f"vector({slo.sli.max_events})"), "budget", True),
        ]
    assert slo.objective is not None
    return [
        Query(promql.checked(f"1 - {_error_ratio(spec, slo)}"), "SLI", instant=True),
        Query(
            promql.checked(f"vector({decimals.render(slo.objective)})"),
            "objective",
            True,
        ),
    ]


def _sli_description(slo: SLO) -> str:
    period = durations.render(slo.period)
    if isinstance(slo.sli, EventCountSLI):
        return (
            f"{slo.description} Events counted over the {period} period, beside "
            f"the budget of {slo.sli.max_events}."
        ).strip()
    return (
        f"{slo.description} Good events out of all events over the {period} "
        "period, beside the objective; from the recorded counts."
    ).strip()


def _spent(spec: Spec, slo: SLO) -> str:
    """The share of the period's budget spent, as a PromQL expression."""
    if isinstance(slo.sli, EventCountSLI):
        return promql.checked(f"({_period_events(spec, slo)}) / {slo.sli.max_events}")
    assert slo.error_budget is not None
    budget = decimals.render(slo.error_budget)
    return promql.checked(f"{_error_ratio(spec, slo)} / {budget}")


def _error_ratio(spec: Spec, slo: SLO) -> str:
    bad = _period_sum(spec, slo, names.bad_events(slo))
    total = _period_sum(spec, slo, names.events(slo))
    return f"({bad} / ({total} > 0))"


def _period_events(spec: Spec, slo: SLO) -> str:
    total = _period_sum(spec, slo, names.events(slo))
    overlap = slo.base_window // slo.interval  # see rulegen.eventcount
    return promql.checked(total if overlap == 1 else f"{total} / {overlap}")


def _period_sum(spec: Spec, slo: SLO, recording: str) -> str:
    series = promql.selector(recording, names.rule_labels(spec, slo), slo.aggregate_by)
    return f"sum({expressions.summed(series, slo.period, slo.interval)})"


def _burn_queries(spec: Spec, slo: SLO) -> list[Query]:
    """One per alert tier: its long window's burn rate."""
    queries = []
    seen = set()
    for alert in slo.alerts:
        for tier in alert.tiers:
            key = (alert.burn_type, tier.long_window)
            if key in seen:
                continue
            seen.add(key)
            window = durations.render(tier.long_window)
            legend = f"{alert.burn_type} burn over {window} ({alert.name})"
            queries.append(Query(_burn(spec, slo, tier), legend))
    return queries


def _burn(spec: Spec, slo: SLO, tier: Tier) -> str:
    fixed = names.rule_labels(spec, slo)
    if isinstance(slo.sli, EventCountSLI):
        counted = promql.selector(
            names.event_count(tier.long_window), fixed, slo.aggregate_by
        )
        share = Decimal(durations.seconds(tier.long_window)) / durations.seconds(
            slo.period
        )
        unit = decimals.render(slo.sli.max_events * share)
        return promql.checked(f"max({counted}) / {unit}")
    assert slo.error_budget is not None
    ratio = promql.selector(
        names.error_ratio(tier.long_window), fixed, slo.aggregate_by
    )
    return promql.checked(f"max({ratio}) / {decimals.render(slo.error_budget)}")


def _burn_thresholds(slo: SLO) -> Thresholds:
    """A line at each tier's burn factor: orange for slow burns, red for fast."""
    factors: dict[Decimal, str] = {}
    for alert in slo.alerts:
        for tier in alert.tiers:
            colour = "red" if alert.burn_type == "fast" else "orange"
            if factors.get(tier.burn_factor) != "red":
                factors[tier.burn_factor] = colour
    steps: list[tuple[str, float | None]] = [("green", None)]
    steps += [(factors[f], float(f)) for f in sorted(factors)]
    return steps


def _runbook_links(slo: SLO) -> list[Link]:
    return [Link(f"Runbook: {a.name}", a.runbook_url) for a in slo.alerts]


def _firing_alerts(spec: Spec) -> Annotation:
    """ALERTS is the series Prometheus keeps for each pending or firing alert:
    the only way a dashboard sees when the generated alerts fired."""
    expr = promql.selector(
        names.ALERTS_METRIC, {names.SERVICE: spec.service, names.ALERTSTATE: "firing"}
    )
    return Annotation(
        name="Firing alerts",
        expr=promql.checked(expr),
        title_format="{{alertname}}",
        tag_keys=(names.SLO_LABEL, names.SEVERITY, names.BURN_TYPE),
    )
