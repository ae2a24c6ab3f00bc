"""Load and validate an SLO spec: every problem at once, each with its place.

The spec is read with yamlsource (strict YAML with positions); each section
has a small reader here. Readers record problems and keep going; at the end
either all errors are raised in one SpecError, or the Spec is returned with
any warnings.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from rulegen import durations, names
from rulegen.errors import SpecError, UnreadableSpecError
from rulegen.promtests.inputs import NoInputError, inputs_for
from rulegen.spec import alerts as alert_readers
from rulegen.spec import fields
from rulegen.spec.fields import Mapping, Source
from rulegen.spec.gauges import gauge_alerts
from rulegen.spec.model import (
    DEFAULT_RUNBOOK_BASE_URL,
    SLI,
    SLO,
    Alert,
    EventCountSLI,
    EventsRatioSLI,
    GaugeAlert,
    LatencySLI,
    Spec,
)
from rulegen.spec.routing import RoutedAlert
from rulegen.spec.routing import routing as read_routing
from rulegen.spec.selectors import selector
from yamlsource import KeyPath, Problem, UnreadableError, errors, load_file, warnings

SPEC_KEYS = (
    "service",
    "team",
    "labels",
    "runbook_base_url",
    "scrape_interval",
    "slos",
    "gauge_alerts",
    "routing",
)
SLO_KEYS = (
    "name",
    "description",
    "objective",
    "period",
    "aggregate_by",
    "sli",
    "base_window",
    "interval",
    "alerts",
    "burn_rate_alerts",
)
SLI_KINDS = ("events_ratio", "latency", "event_count")
DEFAULT_PERIOD = timedelta(days=30)
DEFAULT_SCRAPE_INTERVAL = timedelta(minutes=1)
# Ratio SLIs: counts per base window in tiles (interval = base window), so a
# long window's sum covers it exactly. Event counts: readings overlap tenfold,
# so no event is lost between two windows (see rulegen.eventcount).
RATIO_BASE_WINDOW = timedelta(minutes=5)
COUNT_BASE_WINDOW = timedelta(minutes=10)
COUNT_INTERVAL = timedelta(minutes=1)

slo_name = fields.matching(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
    f"an SLO name of at most {fields.MAX_NAME_LENGTH} lower-case letters, digits "
    "and '-', as in stall-ratio (it names files and the slo label)",
    fields.MAX_NAME_LENGTH,
)
# The service label must equal the watchdog config's metrics.service, so it
# follows that key's rule.
service_name = fields.matching(
    r"^[a-z][a-z0-9_-]*$",
    f"a lower-case name of at most {fields.MAX_NAME_LENGTH} letters, digits, _ "
    "and -, as metrics.service in the watchdog config (it names files and the "
    "service label)",
    fields.MAX_NAME_LENGTH,
)
base_url = fields.matching(
    r"^https?://\S+/$", "an absolute http(s) URL ending with '/'"
)


def load_spec(path: Path | str) -> tuple[Spec, list[Problem]]:
    """Read the spec at ``path``; return it with its warnings, or raise."""
    try:
        doc = load_file(path)
    except UnreadableError as exc:
        raise UnreadableSpecError(exc.problems) from None
    src = Source(doc)
    spec = _spec(src, Path(path).name, doc.data)
    if spec is not None:
        _check_testable(src, spec)
    if errors(src.problems) or spec is None:
        raise SpecError(errors(src.problems))
    return spec, warnings(src.problems)


def _check_testable(src: Source, spec: Spec) -> None:
    """Every SLO's generated tests need input series its selectors select."""
    for slo in spec.slos:
        try:
            inputs_for(slo)
        except NoInputError as exc:
            src.error(
                (*slo.path, "sli"),
                f"cannot generate promtool tests: {exc}; accepted: matchers whose "
                "values (or regex alternatives) can be written out literally",
            )


def _spec(src: Source, file: str, data: Any) -> Spec | None:
    m = Mapping(src, (), data, SPEC_KEYS)
    service = m.required("service", service_name)
    team = m.required("team", fields.text)
    no_labels: dict[str, str] = {}
    labels = m.optional("labels", _labels, no_labels)
    # Unusable values were reported; their defaults let the rest be checked.
    runbook_base_url = (
        m.optional("runbook_base_url", base_url, DEFAULT_RUNBOOK_BASE_URL)
        or DEFAULT_RUNBOOK_BASE_URL
    )
    scrape_interval = m.optional(
        "scrape_interval", fields.duration, DEFAULT_SCRAPE_INTERVAL
    )
    items = m.required("slos", fields.sequence)
    if items == []:
        src.error(("slos",), "expected at least one SLO")
    slos = [
        _slo(
            src,
            ("slos", i),
            item,
            runbook_base_url,
            scrape_interval or DEFAULT_SCRAPE_INTERVAL,
        )
        for i, item in enumerate(items or [])
    ]
    fields.check_unique(
        src, [((*s.path, "name"), s.name) for s in slos if s], "SLO name"
    )
    no_gauges: tuple[GaugeAlert, ...] = ()
    gauges = m.optional(
        "gauge_alerts",
        lambda s, p, d: gauge_alerts(s, p, d, runbook_base_url),
        no_gauges,
    )
    every_alert: list[Alert | GaugeAlert] = [a for s in slos if s for a in s.alerts]
    every_alert += gauges or ()
    fields.check_unique(
        src, [((*a.path, "name"), a.name) for a in every_alert], "alert name"
    )
    routed = [RoutedAlert(a.name, a.severity, a.path) for a in every_alert]
    routing = m.optional("routing", lambda s, p, d: read_routing(s, p, d, routed), None)
    if None in (service, team, labels, scrape_interval, items, gauges) or None in slos:
        return None
    if m.has("routing") and routing is None:
        return None
    assert service and team and labels is not None and scrape_interval
    assert gauges is not None
    return Spec(
        file=file,
        service=service,
        team=team,
        labels=labels,
        runbook_base_url=runbook_base_url,
        scrape_interval=scrape_interval,
        slos=tuple(s for s in slos if s),
        gauge_alerts=gauges,
        routing=routing,
    )


def _slo(
    src: Source,
    path: KeyPath,
    data: Any,
    runbook_base_url: str,
    scrape_interval: timedelta,
) -> SLO | None:
    m = Mapping(src, path, data, SLO_KEYS)
    name = m.required("name", slo_name)
    description = m.optional("description", fields.text, "")
    sli: SLI | None = m.required("sli", _sli)
    period = m.optional("period", fields.duration, DEFAULT_PERIOD)
    everything: tuple[str, ...] = ()
    aggregate_by = m.optional("aggregate_by", _aggregation, everything)
    objective = None
    if isinstance(sli, EventCountSLI):
        if m.has("objective"):
            src.error(
                (*path, "objective"),
                "an event-count budget has no objective; its budget is "
                "sli.event_count.max_events per period",
                at_key=True,
            )
    else:
        objective = m.required("objective", fields.objective)
    base_window, interval = _evaluation(src, m, sli)

    # Alerts are read even when the values above were wrong, so that their
    # own mistakes are reported too; defaults stand in for the wrong values.
    ctx = alert_readers.Context(
        src=src,
        sli=sli,
        error_budget=None if objective is None else 1 - objective,
        period=period or DEFAULT_PERIOD,
        base_window=base_window or RATIO_BASE_WINDOW,
        interval=interval or base_window or RATIO_BASE_WINDOW,
        scrape_interval=scrape_interval,
        runbook_base_url=runbook_base_url,
    )
    alerts = _alerts(ctx, m)
    if None in (name, description, sli, period, aggregate_by, base_window, interval):
        return None
    if not isinstance(sli, EventCountSLI) and objective is None:
        return None
    assert name and sli and period and base_window and interval
    assert description is not None and aggregate_by is not None
    return SLO(
        name=name,
        description=description,
        objective=objective,
        period=period,
        aggregate_by=aggregate_by,
        sli=sli,
        base_window=base_window,
        interval=interval,
        alerts=alerts,
        path=path,
    )


def _alerts(ctx: alert_readers.Context, m: Mapping) -> tuple[Alert, ...]:
    found: list[Alert] = []
    errors_before = len(errors(ctx.src.problems))
    none: list[Any] = []
    items = m.optional("alerts", fields.sequence, none)
    for i, item in enumerate(items or []):
        alert = alert_readers.explicit_alert(ctx, (*m.path, "alerts", i), item)
        if alert is not None:
            found.append(alert)
    if m.has("burn_rate_alerts"):
        where = (*m.path, "burn_rate_alerts")
        found += alert_readers.preset_alerts(ctx, where, m.data["burn_rate_alerts"])
    if not m.has("alerts") and not m.has("burn_rate_alerts"):
        ctx.src.error(m.path, "an SLO needs alerts, burn_rate_alerts or both")
    elif (
        not found
        and ctx.error_budget is not None  # else alerts could not be read
        and len(errors(ctx.src.problems)) == errors_before
    ):
        ctx.src.error(
            m.path,
            "no alert of this SLO is left: every tier was dropped as one that "
            "can never fire; accepted: a tighter objective, or explicit alerts",
        )
    return tuple(found)


def _evaluation(
    src: Source, m: Mapping, sli: SLI | None
) -> tuple[timedelta | None, timedelta | None]:
    """The base window and evaluation interval, defaulted by SLI kind."""
    counting = isinstance(sli, EventCountSLI)
    default_base = COUNT_BASE_WINDOW if counting else RATIO_BASE_WINDOW
    base_window = m.optional("base_window", _minutes, default_base)
    if base_window is None:
        return None, None
    default_interval = COUNT_INTERVAL if counting else base_window
    interval = m.optional("interval", _minutes, default_interval)
    if interval is not None and base_window % interval:
        src.error(
            (*m.path, "interval"),
            f"base_window {durations.render(base_window)} is not a whole "
            f"number of intervals of {durations.render(interval)}",
        )
        return base_window, None
    return base_window, interval


def _minutes(src: Source, path: KeyPath, value: Any) -> timedelta | None:
    window = fields.duration(src, path, value)
    if window is not None and window % timedelta(minutes=1):
        src.error(path, f"{value!r} is not whole minutes; accepted: 1m, 5m, 10m, ...")
        return None
    return window


def _sli(src: Source, path: KeyPath, data: Any) -> SLI | None:
    m = Mapping(src, path, data, SLI_KINDS)
    given = [kind for kind in SLI_KINDS if m.has(kind)]
    if m.valid and len(given) != 1:
        src.error(path, f"expected exactly one SLI kind of: {', '.join(SLI_KINDS)}")
        return None
    if not given:
        return None
    kind = given[0]
    readers = {"events_ratio": _events_ratio, "latency": _latency}
    reader = readers.get(kind, _event_count)
    return reader(src, (*path, kind), m.data[kind])


def _events_ratio(src: Source, path: KeyPath, data: Any) -> SLI | None:
    m = Mapping(src, path, data, ("bad", "total"))
    bad = m.required("bad", selector)
    total = m.required("total", selector)
    return None if bad is None or total is None else EventsRatioSLI(bad, total)


def _latency(src: Source, path: KeyPath, data: Any) -> SLI | None:
    m = Mapping(src, path, data, ("histogram", "threshold_seconds"))
    histogram = m.required("histogram", selector)
    threshold = m.required("threshold_seconds", fields.positive_number)
    if histogram is not None:
        where = (*path, "histogram")
        if histogram.metric.endswith(("_bucket", "_count", "_sum")):
            src.error(
                where,
                f"{histogram.metric!r} is a histogram series; accepted: the "
                "histogram's base name, without _bucket, _count or _sum",
            )
            return None
        if any(matcher.name == names.BUCKET_BOUND for matcher in histogram.matchers):
            src.error(where, "matches 'le'; rulegen adds the bucket bound itself")
            return None
    if threshold is not None and threshold >= 10**6:
        src.error((*path, "threshold_seconds"), f"{threshold} is not below 1000000")
        return None
    if histogram is None or threshold is None:
        return None
    return LatencySLI(histogram, threshold)


def _event_count(src: Source, path: KeyPath, data: Any) -> SLI | None:
    m = Mapping(src, path, data, ("events", "max_events"))
    events = m.required("events", selector)
    max_events = m.required("max_events", fields.count)
    if max_events == 0:
        src.error((*path, "max_events"), "0 is not a budget; accepted: 1 or more")
        return None
    if events is None or max_events is None:
        return None
    return EventCountSLI(events, max_events)


def _labels(src: Source, path: KeyPath, data: Any) -> dict[str, str] | None:
    if not isinstance(data, dict):
        src.error(
            path,
            f"expected a mapping of label names to values, got {fields.describe(data)}",
        )
        return None
    labels: dict[str, str] = {}
    for key, value in data.items():
        name = _free_label(src, (*path, key), key)
        text = fields.text(src, (*path, key), value)
        if name is not None and text is not None:
            labels[name] = text
    return labels if len(labels) == len(data) else None


def _aggregation(src: Source, path: KeyPath, data: Any) -> tuple[str, ...] | None:
    items = fields.sequence(src, path, data)
    if items is None:
        return None
    found = [_free_label(src, (*path, i), item) for i, item in enumerate(items)]
    fields.check_unique(
        src, [((*path, i), n) for i, n in enumerate(found) if n], "label"
    )
    return None if None in found else tuple(n for n in found if n)


def _free_label(src: Source, path: KeyPath, value: Any) -> str | None:
    """A label name the spec may use: valid, and not one rulegen sets."""
    name = fields.label_name(src, path, value)
    if name in names.RESERVED_LABELS:
        src.error(
            path,
            f"{name!r} is set by rulegen or Prometheus; accepted: any other label "
            f"name (reserved: {', '.join(sorted(names.RESERVED_LABELS))})",
        )
        return None
    return name
