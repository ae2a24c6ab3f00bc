"""Runbooks: one Markdown page per runbook page name the alerts use, from
``templates/runbook.md.j2``.

A page says what its alerts mean (from the same numbers as the rules), the
PromQL behind them with the recordings they read, the evidence and debug
commands to run on the runner host, and how to remediate. Alerts whose
runbook is a full URL live elsewhere and get no page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePosixPath

from exporter import contract
from rulegen import decimals, durations, expressions, names, templating
from rulegen.alerting import alerting_rule
from rulegen.alertmanager.config import inhibited_slos
from rulegen.artifacts import Artifact
from rulegen.dashboards.contract_queries import reads_the_contract
from rulegen.gaugealerts import expression as gauge_expression
from rulegen.recordings import recording_rules
from rulegen.spec.model import (
    SLO,
    Alert,
    EventCountSLI,
    EventsRatioSLI,
    GaugeAlert,
    LatencySLI,
    Selector,
    Spec,
)

TEMPLATE = "runbook.md.j2"
# Where the exporter serves its metrics with the shipped config
# (exporter/config/runner.yaml: metrics.port and metrics.path); a test
# holds the two together.
METRICS_PORT = 9477
METRICS_PATH = "/metrics"


@dataclass
class Entry:
    """One alert on a page."""

    name: str
    severity: str
    burn_type: str | None
    summary: str
    description: str
    expr: str
    receiver: str | None
    inhibited_by: str | None = None
    resolves: str = ""


@dataclass
class Page:
    name: str
    kind: str  # ratio, latency, count or gauge: picks the advice
    entries: list[Entry] = field(default_factory=list)
    slo: SLO | None = None
    recordings: list[tuple[str, str]] = field(default_factory=list)
    breakdown: list[tuple[str, str]] = field(default_factory=list)  # what, query
    windows: set[timedelta] = field(default_factory=set)
    metrics: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


def runbook_files(spec: Spec) -> list[Artifact]:
    pages = _pages(spec)
    return [
        Artifact(
            PurePosixPath(names.runbook_file(page.name)),
            templating.render(
                TEMPLATE,
                header=names.MARKDOWN_HEADER.format(spec=spec.file),
                page=page,
                spec=spec,
                port=METRICS_PORT,
                path=METRICS_PATH,
                dashboards=_dashboards(spec),
            ),
        )
        for page in sorted(pages.values(), key=lambda p: p.name)
    ]


def _pages(spec: Spec) -> dict[str, Page]:
    pages: dict[str, Page] = {}
    for slo in spec.slos:
        for alert in slo.alerts:
            if alert.runbook_page is not None:
                page = pages.setdefault(alert.runbook_page, _slo_page(alert, slo))
                page.entries.append(_slo_entry(spec, slo, alert))
                page.windows.update(t.long_window for t in alert.tiers)
    for gauge in spec.gauge_alerts:
        if gauge.runbook_page is not None:
            page = pages.setdefault(gauge.runbook_page, _gauge_page(gauge))
            page.entries.append(_gauge_entry(spec, gauge))
    for page in pages.values():
        if page.slo is not None:
            _add_queries(spec, page, page.slo)
    return pages


def _slo_page(alert: Alert, slo: SLO) -> Page:
    kind = {EventsRatioSLI: "ratio", LatencySLI: "latency", EventCountSLI: "count"}
    return Page(
        alert.runbook_page or "",
        kind[type(slo.sli)],
        slo=slo,
        metrics=sorted({s.metric for s in _sources(slo)}),
        labels=list(slo.aggregate_by),
    )


def _add_queries(spec: Spec, page: Page, slo: SLO) -> None:
    """The recordings the page's alerts read, and where to look first."""
    read = {m for entry in page.entries for m in expressions.metrics_read(entry.expr)}
    page.recordings = [
        (rule["record"], rule["expr"])
        for rule in recording_rules(spec, slo)
        if rule["record"] in read or rule["record"] in _base_recordings(slo)
    ]
    window = max(page.windows)
    span = durations.render(window)
    recorded = expressions.series(
        names.event_count(window)
        if isinstance(slo.sli, EventCountSLI)
        else names.error_ratio(window),
        names.rule_labels(spec, slo),
    )
    what = "events" if isinstance(slo.sli, EventCountSLI) else "error ratio"
    page.breakdown.append(
        (f"{what} per label set over {span}", f"sort_desc({recorded})")
    )
    by = list(slo.aggregate_by)
    if isinstance(slo.sli, LatencySLI):
        histogram = slo.sli.histogram
        bucket = expressions.selector(histogram, histogram.metric + names.BUCKET_SUFFIX)
        grouping = ", ".join([*by, names.BUCKET_BOUND])
        page.breakdown.append(
            (
                "P95 duration per label set",
                f"histogram_quantile(0.95, sum by ({grouping}) "
                f"(rate({bucket}[{span}])))",
            )
        )
        return
    bad = _bad_source(slo)
    if bad.metric == contract.STALLS_TOTAL:
        by.append(contract.CAUSE)  # a stall says why: the cause the tree showed
    page.breakdown.append(
        (
            "bad events per label set, from the exporter's counter",
            expressions.counted(expressions.selector(bad), window, by),
        )
    )


def _base_recordings(slo: SLO) -> tuple[str, ...]:
    if isinstance(slo.sli, EventCountSLI):
        return (names.events(slo),)
    return (names.events(slo), names.bad_events(slo))


def _gauge_page(gauge: GaugeAlert) -> Page:
    return Page(gauge.runbook_page or "", "gauge", metrics=[gauge.gauge.metric])


def _slo_entry(spec: Spec, slo: SLO, alert: Alert) -> Entry:
    rule = alerting_rule(spec, slo, alert)
    fast = [a.name for a in slo.alerts if a.burn_type == "fast"]
    inhibited = alert.burn_type == "slow" and slo in inhibited_slos(spec)
    return Entry(
        name=alert.name,
        severity=alert.severity,
        burn_type=alert.burn_type,
        summary=alert.summary,
        description=rule["annotations"][names.DESCRIPTION],
        expr=rule["expr"],
        receiver=_receiver(spec, alert.severity),
        inhibited_by=", ".join(fast) if inhibited and spec.routing else None,
        resolves=_resolves(slo, alert),
    )


def _gauge_entry(spec: Spec, gauge: GaugeAlert) -> Entry:
    return Entry(
        name=gauge.name,
        severity=gauge.severity,
        burn_type=None,
        summary=gauge.summary,
        description=f"{gauge_expression(gauge)} for {durations.render(gauge.for_)}.",
        expr=gauge_expression(gauge),
        receiver=_receiver(spec, gauge.severity),
        resolves="as soon as the gauge reads 1 again (the next scrape after a "
        "good reload)",
    )


def _resolves(slo: SLO, alert: Alert) -> str:
    """How soon the alert stops after the burn stops: its short windows empty."""
    longest = max(t.short_window or t.long_window for t in alert.tiers)
    period = durations.render(slo.period)
    pace = ", ".join(
        f"{decimals.render(t.burn_factor, 4)}x spends the {period} budget in "
        f"{durations.render(slo.period / float(t.burn_factor))}"
        for t in alert.tiers
        if not isinstance(slo.sli, EventCountSLI)
    )
    text = f"within {durations.render(longest)} of the burn stopping"
    return f"{text} ({pace})" if pace else text


def _receiver(spec: Spec, severity: str) -> str | None:
    return None if spec.routing is None else spec.routing.receiver_for(severity)


def _sources(slo: SLO) -> list[Selector]:
    sli = slo.sli
    if isinstance(sli, EventsRatioSLI):
        return [sli.bad, sli.total]
    if isinstance(sli, LatencySLI):
        return [sli.histogram]
    return [sli.events]


def _bad_source(slo: SLO) -> Selector:
    sli = slo.sli
    if isinstance(sli, EventsRatioSLI):
        return sli.bad
    if isinstance(sli, LatencySLI):
        suffix = names.COUNT_SUFFIX
        return Selector(sli.histogram.metric + suffix, sli.histogram.matchers)
    return sli.events


def _dashboards(spec: Spec) -> dict[str, str]:
    """Dashboard uids by what they show (Grafana serves each at /d/UID)."""
    found = {"SLOs and error budgets": names.slo_dashboard_uid(spec)}
    if reads_the_contract(spec):
        found["stalls and performance across the fleet"] = names.fleet_dashboard_uid(
            spec
        )
        found["exporter health"] = names.exporter_dashboard_uid(spec)
    return found
