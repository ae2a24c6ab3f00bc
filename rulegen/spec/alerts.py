"""Reading an SLO's alerts: explicit burn-rate alerts and the preset.

Policy for tiers that can never fire (burn factor x error budget >= 1): an
explicit alert asking for one is an error, because the author wrote it and
would otherwise believe it guards something; a preset tier is dropped with a
warning naming it, because the preset is generic and such tiers are expected
on loose objectives (the 14.4x page on an 80% objective).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from rulegen import burnrate, durations, eventcount
from rulegen.spec import fields
from rulegen.spec.fields import Mapping, Source
from rulegen.spec.model import (
    BURN_TYPES,
    SEVERITIES,
    SLI,
    Alert,
    BurnType,
    EventCountSLI,
    Severity,
    Tier,
)
from yamlsource import KeyPath

ALERT_KEYS = (
    "name",
    "severity",
    "burn_type",
    "long_window",
    "short_window",
    "burn_factor",
    "threshold",
    "for",
    "runbook",
    "summary",
)
PRESET_ALERT_KEYS = ("name", "severity", "for", "runbook", "summary")
# promtool's unit tests refuse a query that loads more samples than this
# (Prometheus itself allows 50 million): a window may hold at most this
# many evaluations, or its generated tests could not run.
MAX_READINGS_PER_WINDOW = 10_000
PRESET_KEYS = burnrate.PRESET_CLASSES

alert_name = fields.matching(
    r"^[A-Za-z_][A-Za-z0-9_]*$",
    "an alert name (letters, digits and underscores, not starting with a digit)",
)
runbook_page = fields.matching(
    rf"^([a-z0-9][a-z0-9-]{{0,{fields.MAX_NAME_LENGTH - 1}}}|https?://\S+)$",
    "a runbook: a page name under runbook_base_url (at most "
    f"{fields.MAX_NAME_LENGTH} lower-case letters, digits and '-'; it names a "
    "file) or an absolute http(s) URL",
)


@dataclass(frozen=True)
class Context:
    """What reading an SLO's alerts needs to know about the SLO and spec."""

    src: Source
    sli: SLI | None  # None when the SLI itself was wrong
    error_budget: Decimal | None  # None for count budgets, or a wrong objective
    period: timedelta
    base_window: timedelta
    interval: timedelta
    scrape_interval: timedelta
    runbook_base_url: str


def explicit_alert(ctx: Context, path: KeyPath, value: Any) -> Alert | None:
    m = Mapping(ctx.src, path, value, ALERT_KEYS)
    name = m.required("name", alert_name)
    severity = m.required("severity", fields.choice(SEVERITIES))
    burn_type = m.required("burn_type", fields.choice(BURN_TYPES))
    long_window = m.required("long_window", _window(ctx))
    short_window = m.optional("short_window", _window(ctx), None)
    for_ = m.optional("for", fields.duration, timedelta(0))
    runbook = m.required("runbook", runbook_page)
    summary = m.required("summary", fields.text)
    tier = None
    if long_window is not None and for_ is not None:
        tier = _explicit_tier(ctx, m, long_window, short_window, for_)
    if None in (name, severity, burn_type, tier, for_, runbook, summary):
        return None
    assert name and severity and burn_type and tier and runbook and summary
    assert for_ is not None
    return _alert(ctx, path, name, severity, burn_type, (tier,), for_, runbook, summary)


def preset_alerts(ctx: Context, path: KeyPath, value: Any) -> list[Alert]:
    """The multi-window, multi-burn-rate preset, scaled to the SLO's period."""
    m = Mapping(ctx.src, path, value, PRESET_KEYS)
    if m.valid and not m.data:
        ctx.src.error(path, f"expected at least one of: {', '.join(PRESET_KEYS)}")
    if isinstance(ctx.sli, EventCountSLI):
        ctx.src.error(
            path,
            "burn_rate_alerts need an objective; an event-count budget takes "
            "explicit alerts",
        )
        return []
    if ctx.error_budget is None:  # the objective's problem is reported
        return []
    alerts = []
    for burn_type in PRESET_KEYS:
        if m.has(burn_type):
            where = (*path, burn_type)
            alert = _preset(ctx, where, m.data[burn_type], burn_type)
            if alert is not None:
                alerts.append(alert)
    return alerts


def _preset(ctx: Context, path: KeyPath, value: Any, burn_type: str) -> Alert | None:
    m = Mapping(ctx.src, path, value, PRESET_ALERT_KEYS)
    name = m.required("name", alert_name)
    severity = m.required("severity", fields.choice(SEVERITIES))
    for_ = m.optional("for", fields.duration, timedelta(0))
    runbook = m.required("runbook", runbook_page)
    summary = m.required("summary", fields.text)
    if None in (name, severity, for_, runbook, summary):
        return None
    assert name and severity and runbook and summary and for_ is not None
    assert ctx.error_budget is not None

    tiers = []
    for preset in burnrate.PRESET:
        if preset.burn_type != burn_type:
            continue
        scaled = burnrate.scale(preset, ctx.period, ctx.base_window)
        described = _describe(
            scaled.burn_factor, scaled.long_window, scaled.short_window
        )
        if not burnrate.can_fire(scaled.burn_factor, ctx.error_budget):
            ctx.src.warn(
                path,
                f"preset tier {described} of alert {name!r} can never fire "
                f"({scaled.burn_factor} x error budget {ctx.error_budget} >= 1); "
                "dropped",
            )
            continue
        threshold = scaled.burn_factor * ctx.error_budget
        tiers.append(
            Tier(scaled.long_window, scaled.short_window, scaled.burn_factor, threshold)
        )
    if not tiers:
        ctx.src.warn(path, f"alert {name!r} dropped: none of its preset tiers can fire")
        return None
    kind: BurnType = "fast" if burn_type == "fast" else "slow"
    return _alert(ctx, path, name, severity, kind, tuple(tiers), for_, runbook, summary)


def _explicit_tier(
    ctx: Context,
    m: Mapping,
    long_window: timedelta,
    short_window: timedelta | None,
    for_: timedelta,
) -> Tier | None:
    if short_window is not None and short_window >= long_window:
        ctx.src.error(
            (*m.path, "short_window"),
            f"{durations.render(short_window)} is not shorter than long_window "
            f"{durations.render(long_window)}",
        )
        return None
    if short_window is not None and isinstance(ctx.sli, EventCountSLI):
        ctx.src.error(
            (*m.path, "short_window"),
            "an event-count alert counts over its long window only; accepted: "
            "no short_window",
            at_key=True,
        )
        return None
    factor, threshold = _factor_and_threshold(ctx, m, long_window)
    if factor is None or threshold is None:
        return None
    tier = Tier(long_window, short_window, factor, threshold)
    if isinstance(ctx.sli, EventCountSLI):
        return tier if _count_tier_works(ctx, m.path, tier, for_) else None
    if threshold >= 1:
        ctx.src.error(
            (*m.path, "threshold" if m.has("threshold") else "burn_factor"),
            f"this alert can never fire: its error-ratio threshold {threshold} "
            f"({factor} x error budget {ctx.error_budget}) is at least 1; "
            "accepted: a threshold below 1",
        )
        return None
    return tier


def _factor_and_threshold(
    ctx: Context, m: Mapping, long_window: timedelta
) -> tuple[Decimal | None, Decimal | None]:
    """Exactly one of burn_factor and threshold; derive the other."""
    if m.has("burn_factor") == m.has("threshold"):
        ctx.src.error(m.path, "give exactly one of burn_factor and threshold")
        return None, None
    # One budget unit: the error budget of a ratio SLI, or the events a
    # count budget allows within the long window.
    unit = ctx.error_budget
    if isinstance(ctx.sli, EventCountSLI):
        share = Decimal(durations.seconds(long_window)) / durations.seconds(ctx.period)
        unit = ctx.sli.max_events * share
    if unit is None:  # the SLO's objective or SLI is wrong, and reported
        return None, None
    if m.has("burn_factor"):
        factor = m.optional("burn_factor", fields.positive_number, None)
        return factor, None if factor is None else factor * unit
    threshold = m.optional("threshold", fields.positive_number, None)
    return None if threshold is None else threshold / unit, threshold


def _count_tier_works(ctx: Context, path: KeyPath, tier: Tier, for_: timedelta) -> bool:
    shortest = eventcount.shortest_window(ctx.base_window, ctx.interval, for_)
    if tier.long_window < shortest:
        ctx.src.error(
            (*path, "long_window"),
            f"{durations.render(tier.long_window)} is too short to count whole "
            f"events read over a base window of {durations.render(ctx.base_window)}; "
            f"accepted: at least {durations.render(shortest)} (2 x base_window + "
            "for + 4 x interval)",
        )
        return False
    bounds = eventcount.read_bounds(ctx.base_window, ctx.interval, ctx.scrape_interval)
    allowed = eventcount.allowed_events(tier.threshold)
    if eventcount.separates(bounds, allowed):
        return True
    ctx.src.error(
        path,
        f"cannot tell {allowed} events from {allowed + 1}: with scrapes every "
        f"{durations.render(ctx.scrape_interval)}, a base window of "
        f"{durations.render(ctx.base_window)} read every "
        f"{durations.render(ctx.interval)} counts one event as "
        f"{bounds.low:.2f} to {bounds.high:.2f}; accepted: a longer base_window "
        "or a shorter interval",
    )
    return False


def _window(ctx: Context) -> fields.Parser[timedelta | None]:
    """A window rulegen can build from the SLO's base-window counts."""

    def parse(src: Source, path: KeyPath, value: Any) -> timedelta | None:
        window = fields.duration(src, path, value)
        if window is None:
            return None
        step = durations.render(ctx.interval)
        if window < ctx.base_window or window % ctx.interval:
            src.error(
                path,
                f"{value!r} is not built from whole evaluations of this SLO; "
                f"accepted: at least the base window "
                f"{durations.render(ctx.base_window)}, in steps of {step}",
            )
            return None
        if window // ctx.interval > MAX_READINGS_PER_WINDOW:
            src.error(
                path,
                f"{value!r} holds {window // ctx.interval} evaluations of {step}, "
                f"more than promtool's unit tests load ({MAX_READINGS_PER_WINDOW}); "
                "accepted: a shorter window or a longer interval",
            )
            return None
        return window

    return parse


def _alert(
    ctx: Context,
    path: KeyPath,
    name: str,
    severity: str,
    burn_type: str,
    tiers: tuple[Tier, ...],
    for_: timedelta,
    runbook: str,
    summary: str,
) -> Alert:
    url, page = runbook_location(runbook, ctx.runbook_base_url)
    return Alert(
        name=name,
        severity=as_severity(severity),
        burn_type="fast" if burn_type == "fast" else "slow",
        tiers=tiers,
        for_=for_,
        summary=summary,
        runbook_url=url,
        runbook_page=page,
        path=path,
    )


def runbook_location(runbook: str, base_url: str) -> tuple[str, str | None]:
    """(URL, page name): a page name lives under ``base_url``; a full URL
    has no page rulegen writes."""
    if runbook.startswith(("http://", "https://")):
        return runbook, None
    return base_url + runbook, runbook


def as_severity(value: str) -> Severity:
    """``value``, already checked to be one of SEVERITIES, typed as one."""
    for known in SEVERITIES:
        if known == value:
            return known
    raise AssertionError(value)


def _describe(factor: Decimal, long: timedelta, short: timedelta | None) -> str:
    text = f"{factor}x over {durations.render(long)}"
    if short is not None:
        text += f" and {durations.render(short)}"
    return text
