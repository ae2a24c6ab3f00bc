"""The validated SLO spec, as frozen dataclasses.

``rulegen.spec.load_spec`` builds a ``Spec``; every generator only reads it.
Thresholds and objectives are Decimals so that 10 x (1 - 0.98) is 0.2, not
0.20000000000000018, in the generated rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from yamlsource import KeyPath

Severity = Literal["critical", "warning", "info"]
BurnType = Literal["fast", "slow"]
MatchOp = Literal["=", "!=", "=~", "!~"]
GaugeOp = Literal["==", "<", ">"]

SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
BURN_TYPES: tuple[BurnType, ...] = ("fast", "slow")
GAUGE_OPS: dict[str, GaugeOp] = {"equals": "==", "below": "<", "above": ">"}
DEFAULT_RUNBOOK_BASE_URL = "https://spark-platform/docs/runbooks/"


@dataclass(frozen=True)
class Matcher:
    """One label matcher; ``value`` is unescaped (a regex for =~ and !~)."""

    name: str
    op: MatchOp
    value: str


@dataclass(frozen=True)
class Selector:
    """A metric name and its label matchers, as the spec wrote them."""

    metric: str
    matchers: tuple[Matcher, ...] = ()


@dataclass(frozen=True)
class EventsRatioSLI:
    """Bad events out of all events, both counters."""

    bad: Selector
    total: Selector


@dataclass(frozen=True)
class LatencySLI:
    """Observations of a histogram above ``threshold_seconds`` are bad."""

    histogram: Selector  # the base name, without _bucket or _count
    threshold_seconds: Decimal


@dataclass(frozen=True)
class EventCountSLI:
    """At most ``max_events`` increments of a counter per budget period."""

    events: Selector
    max_events: int


SLI = EventsRatioSLI | LatencySLI | EventCountSLI


@dataclass(frozen=True)
class Tier:
    """One window pair of a burn-rate alert.

    Fires when the long window, and the short one when given, both exceed
    ``threshold``: an error ratio for ratio SLIs, an event count for
    event-count budgets. ``burn_factor`` is the threshold in units of the
    error budget.
    """

    long_window: timedelta
    short_window: timedelta | None
    burn_factor: Decimal
    threshold: Decimal

    @property
    def windows(self) -> tuple[timedelta, ...]:
        if self.short_window is None:
            return (self.long_window,)
        return (self.long_window, self.short_window)


@dataclass(frozen=True)
class Alert:
    """A burn-rate alert: fires when any of its tiers does, for ``for_``."""

    name: str
    severity: Severity
    burn_type: BurnType
    tiers: tuple[Tier, ...]
    for_: timedelta
    summary: str
    runbook_url: str
    runbook_page: str | None  # the page name under the runbook base URL
    path: KeyPath  # where the spec declares it, for later problems


@dataclass(frozen=True)
class SLO:
    """One objective over one SLI, aggregated by ``aggregate_by``.

    Recordings count events per ``base_window``, evaluated every
    ``interval``; every longer window is a sum of those counts.
    """

    name: str
    description: str
    objective: Decimal | None  # None for event-count budgets
    period: timedelta
    aggregate_by: tuple[str, ...]
    sli: SLI
    base_window: timedelta
    interval: timedelta
    alerts: tuple[Alert, ...]
    path: KeyPath

    @property
    def error_budget(self) -> Decimal | None:
        return None if self.objective is None else 1 - self.objective

    @property
    def windows(self) -> tuple[timedelta, ...]:
        """Every window an alert reads, shortest first."""
        found = {w for alert in self.alerts for t in alert.tiers for w in t.windows}
        return tuple(sorted(found))


@dataclass(frozen=True)
class GaugeAlert:
    """Fires while a gauge compares to ``value`` as ``op`` says, for ``for_``
    (the exporter's own health, such as a config that failed to reload)."""

    name: str
    severity: Severity
    gauge: Selector
    op: GaugeOp
    value: Decimal
    for_: timedelta
    summary: str
    runbook_url: str
    runbook_page: str | None
    path: KeyPath


@dataclass(frozen=True)
class SlackChannel:
    channel: str
    api_url_file: str  # the webhook URL is a secret: Alertmanager reads it


@dataclass(frozen=True)
class DiscordChannel:
    webhook_url_file: str  # Discord's Slack-compatible URL (ends in /slack)


@dataclass(frozen=True)
class EmailChannel:
    to: str
    sender: str  # `from` in the spec and in Alertmanager
    smarthost: str
    auth_username: str | None
    auth_password_file: str | None


@dataclass(frozen=True)
class WebhookChannel:
    url: str  # not a secret; the bearer token is, and stays in a file
    credentials_file: str | None


@dataclass(frozen=True)
class Receiver:
    """A named set of channels Alertmanager notifies together."""

    name: str
    slack: tuple[SlackChannel, ...] = ()
    discord: tuple[DiscordChannel, ...] = ()
    email: tuple[EmailChannel, ...] = ()
    webhook: tuple[WebhookChannel, ...] = ()


@dataclass(frozen=True)
class Routing:
    """Where alerts go: the team's ``receiver``, and one receiver per severity
    (``routes``) under it."""

    receiver: str
    routes: dict[Severity, str]
    receivers: tuple[Receiver, ...]

    def receiver_for(self, severity: str) -> str:
        """Where an alert of ``severity`` goes."""
        routed = (r for s, r in self.routes.items() if s == severity)
        return next(routed, self.receiver)


@dataclass(frozen=True)
class Spec:
    """The whole spec."""

    file: str  # the spec's file name, as generated headers cite it
    service: str
    team: str
    labels: dict[str, str]
    runbook_base_url: str
    scrape_interval: timedelta
    slos: tuple[SLO, ...]
    gauge_alerts: tuple[GaugeAlert, ...] = ()
    routing: Routing | None = None  # None: no Alertmanager config is written
