"""alertmanager.yml: the routing tree, the fast-over-slow inhibitions and
the receivers, for Alertmanager 0.25.

Every secret is a ``*_file`` path Alertmanager reads when it notifies; the
generated file holds none. Alertmanager 0.25 has no file field for a
Discord webhook (``discord_configs`` takes only an inline URL) nor for a
webhook URL, so Discord is notified through its Slack-compatible endpoint
with ``api_url_file``, and a webhook's URL is plain while its token stays in
``http_config.authorization.credentials_file``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rulegen import expressions, names
from rulegen.spec.model import (
    SLO,
    DiscordChannel,
    EmailChannel,
    Receiver,
    Routing,
    SlackChannel,
    Spec,
    WebhookChannel,
)

# The product's grouping and timing (issue 3): one notification per team and
# service, sent 10s after the first alert, updated every 10s, repeated hourly.
GROUP_BY = (names.TEAM, names.SERVICE)
GROUP_WAIT = "10s"
GROUP_INTERVAL = "10s"
REPEAT_INTERVAL = "1h"


def config(spec: Spec, routing: Routing) -> dict[str, Any]:
    return {
        "route": _root_route(spec, routing),
        "inhibit_rules": [inhibit_rule(spec, slo) for slo in inhibited_slos(spec)],
        "receivers": [_receiver(r) for r in routing.receivers],
        "templates": [names.TEMPLATES_GLOB],
    }


def team_matchers(spec: Spec) -> dict[str, str]:
    return {names.TEAM: spec.team, names.SERVICE: spec.service}


def inhibited_slos(spec: Spec) -> list[SLO]:
    """SLOs with both a fast-burn and a slow-burn alert."""
    return [
        slo
        for slo in spec.slos
        if {a.burn_type for a in slo.alerts} == {"fast", "slow"}
    ]


def inhibit_rule(spec: Spec, slo: SLO) -> dict[str, Any]:
    """A firing fast burn of ``slo`` silences its slow burn for the same
    aggregation labels: the page already says what the ticket would."""
    same = {**team_matchers(spec), names.SLO_LABEL: slo.name}
    return {
        "source_matchers": _matchers({**same, names.BURN_TYPE: "fast"}),
        "target_matchers": _matchers({**same, names.BURN_TYPE: "slow"}),
        "equal": [names.SLO_LABEL, *slo.aggregate_by],
    }


def _root_route(spec: Spec, routing: Routing) -> dict[str, Any]:
    severity_routes = [
        {
            "receiver": receiver,
            "matchers": _matchers({names.SEVERITY: severity}),
        }
        for severity, receiver in routing.routes.items()
    ]
    team_route = {
        "receiver": routing.receiver,
        "matchers": _matchers(team_matchers(spec)),
        "routes": severity_routes,
    }
    return {
        # This config is the team's: alerts of other teams or services land
        # with the team's receiver too, rather than nowhere.
        "receiver": routing.receiver,
        "group_by": list(GROUP_BY),
        "group_wait": GROUP_WAIT,
        "group_interval": GROUP_INTERVAL,
        "repeat_interval": REPEAT_INTERVAL,
        "routes": [team_route],
    }


def _matchers(labels: Mapping[str, str]) -> list[str]:
    return [f"{name}={expressions.quote(value)}" for name, value in labels.items()]


def _receiver(receiver: Receiver) -> dict[str, Any]:
    found: dict[str, Any] = {"name": receiver.name}
    # Discord's Slack-compatible endpoint takes Slack's message format.
    slack = [_slack(c) for c in receiver.slack] + [
        _discord(c) for c in receiver.discord
    ]
    if slack:
        found["slack_configs"] = slack
    if receiver.email:
        found["email_configs"] = [_email(c) for c in receiver.email]
    if receiver.webhook:
        found["webhook_configs"] = [_webhook(c) for c in receiver.webhook]
    return found


def _call(template: str) -> str:
    return f'{{{{ template "{template}" . }}}}'


def _slack(channel: SlackChannel) -> dict[str, Any]:
    return {
        "api_url_file": channel.api_url_file,
        "channel": channel.channel,
        "send_resolved": True,
        "title": _call(names.TITLE_TEMPLATE),
        "text": _call(names.TEXT_TEMPLATE),
    }


def _discord(channel: DiscordChannel) -> dict[str, Any]:
    return {
        "api_url_file": channel.webhook_url_file,
        "send_resolved": True,
        "title": _call(names.TITLE_TEMPLATE),
        "text": _call(names.TEXT_TEMPLATE),
    }


def _email(channel: EmailChannel) -> dict[str, Any]:
    found: dict[str, Any] = {
        "to": channel.to,
        "from": channel.sender,
        "smarthost": channel.smarthost,
    }
    if channel.auth_username is not None:
        found["auth_username"] = channel.auth_username
    if channel.auth_password_file is not None:
        found["auth_password_file"] = channel.auth_password_file
    found |= {
        "send_resolved": True,
        "headers": {"Subject": _call(names.TITLE_TEMPLATE)},
        "html": _call(names.HTML_TEMPLATE),
        "text": _call(names.TEXT_TEMPLATE),
    }
    return found


def _webhook(channel: WebhookChannel) -> dict[str, Any]:
    found: dict[str, Any] = {"url": channel.url, "send_resolved": True}
    if channel.credentials_file is not None:
        found["http_config"] = {
            "authorization": {
                "type": "Bearer",
                "credentials_file": channel.credentials_file,
            }
        }
    return found
