"""Reading the spec's routing section: receivers, their channels, and the
receiver of each severity.

Secrets never appear in the spec: every webhook URL and password is a path
to a file Alertmanager reads (see ``SECRET_FIELDS``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from rulegen.spec import fields
from rulegen.spec.fields import Mapping, Source
from rulegen.spec.model import (
    SEVERITIES,
    DiscordChannel,
    EmailChannel,
    Receiver,
    Routing,
    Severity,
    SlackChannel,
    WebhookChannel,
)
from yamlsource import KeyPath

T = TypeVar("T")

ROUTING_KEYS = ("receiver", "routes", "receivers")
CHANNEL_KINDS = ("slack", "discord", "email", "webhook")
RECEIVER_KEYS = ("name", *CHANNEL_KINDS)
# The inline form of each secret, and the file field that replaces it.
SECRET_FIELDS = {
    "api_url": "api_url_file",
    "webhook_url": "webhook_url_file",
    "auth_password": "auth_password_file",
    "credentials": "credentials_file",
}

receiver_name = fields.matching(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    "a receiver name (letters, digits, '_', '.', '-')",
)
secret_file = fields.matching(
    r"^/\S+$", "an absolute path to the file holding the secret"
)
http_url = fields.matching(r"^https?://\S+$", "an absolute http(s) URL")
smarthost = fields.matching(r"^\S+:[0-9]+$", "an SMTP server as host:port")
address = fields.matching(r"^[^@\s]+@[^@\s]+$", "an email address")


@dataclass(frozen=True)
class RoutedAlert:
    """What routing needs to know of an alert: its severity and place."""

    name: str
    severity: Severity
    path: KeyPath


def routing(
    src: Source, path: KeyPath, data: Any, alerts: Sequence[RoutedAlert]
) -> Routing | None:
    m = Mapping(src, path, data, ROUTING_KEYS)
    receivers = m.required("receivers", _receivers)
    # Names of receivers that are wrong otherwise still count as known, so
    # one mistake is not reported again at every route naming it.
    known = _names_given(m.data.get("receivers"))
    team_receiver = m.required("receiver", _reference(known))
    routes = m.required("routes", _routes(known))
    if routes is not None:
        _check_every_severity_routed(src, (*path, "routes"), routes, alerts)
    if receivers is None or team_receiver is None or routes is None:
        return None
    return Routing(receiver=team_receiver, routes=routes, receivers=receivers)


def _check_every_severity_routed(
    src: Source,
    path: KeyPath,
    routes: dict[Severity, str],
    alerts: Sequence[RoutedAlert],
) -> None:
    reported: set[str] = set()
    for alert in alerts:
        if alert.severity in routes or alert.severity in reported:
            continue
        reported.add(alert.severity)
        at = src.doc.mark((*alert.path, "severity"))
        src.error(
            path,
            f"no route for severity {alert.severity!r}, which alert {alert.name!r} "
            f"uses (line {at.line}, column {at.column}); accepted: a route for "
            "every severity the alerts use",
        )


def _receivers(src: Source, path: KeyPath, data: Any) -> tuple[Receiver, ...] | None:
    items = fields.sequence(src, path, data)
    if items == []:
        src.error(path, "expected at least one receiver")
        return None
    found = [_receiver(src, (*path, i), item) for i, item in enumerate(items or [])]
    named = [((*path, i, "name"), r.name) for i, r in enumerate(found) if r]
    fields.check_unique(src, named, "receiver name")
    if items is None or None in found or len(set(n for _, n in named)) < len(named):
        return None
    return tuple(r for r in found if r)


def _receiver(src: Source, path: KeyPath, data: Any) -> Receiver | None:
    m = Mapping(src, path, data, RECEIVER_KEYS)
    name = m.required("name", receiver_name)
    if m.valid and not any(m.has(kind) for kind in CHANNEL_KINDS):
        shown = f"receiver {name!r}" if name else "this receiver"
        src.error(
            path,
            f"{shown} has no channel; accepted: at least one of "
            f"{', '.join(CHANNEL_KINDS)}",
        )
        return None
    slack = m.optional("slack", _channels(_slack), ())
    discord = m.optional("discord", _channels(_discord), ())
    email = m.optional("email", _channels(_email), ())
    webhook = m.optional("webhook", _channels(_webhook), ())
    if None in (name, slack, discord, email, webhook):
        return None
    assert name and slack is not None and discord is not None
    assert email is not None and webhook is not None
    return Receiver(name, slack, discord, email, webhook)


def _channels(
    read: Callable[[Source, KeyPath, Any], T | None],
) -> fields.Parser[tuple[T, ...] | None]:
    def parse(src: Source, path: KeyPath, data: Any) -> tuple[T, ...] | None:
        items = fields.sequence(src, path, data)
        if items == []:
            src.error(path, "expected at least one channel, got an empty list")
            return None
        found = [read(src, (*path, i), item) for i, item in enumerate(items or [])]
        if items is None or None in found:
            return None
        return tuple(c for c in found if c is not None)

    return parse


def _channel_fields(
    src: Source, path: KeyPath, data: Any, keys: Sequence[str]
) -> Mapping:
    """The channel's mapping; an inline secret is refused with its file field."""
    inline = [k for k, v in SECRET_FIELDS.items() if v in keys]
    m = Mapping(src, path, data, (*keys, *inline))
    for key in inline:
        if m.has(key):
            src.error(
                (*path, key),
                f"{key!r} would put a secret into the generated config; accepted: "
                f"{SECRET_FIELDS[key]!r}, the path of a file holding it",
                at_key=True,
            )
    return m


def _slack(src: Source, path: KeyPath, data: Any) -> SlackChannel | None:
    m = _channel_fields(src, path, data, ("channel", "api_url_file"))
    channel = m.required("channel", fields.text)
    url_file = None if m.has("api_url") else m.required("api_url_file", secret_file)
    if channel is None or url_file is None or m.has("api_url"):
        return None
    return SlackChannel(channel, url_file)


def _discord(src: Source, path: KeyPath, data: Any) -> DiscordChannel | None:
    m = _channel_fields(src, path, data, ("webhook_url_file",))
    url_file = (
        None if m.has("webhook_url") else m.required("webhook_url_file", secret_file)
    )
    if url_file is None or m.has("webhook_url"):
        return None
    return DiscordChannel(url_file)


def _email(src: Source, path: KeyPath, data: Any) -> EmailChannel | None:
    keys = ("to", "from", "smarthost", "auth_username", "auth_password_file")
    m = _channel_fields(src, path, data, keys)
    to = m.required("to", address)
    sender = m.required("from", address)
    host = m.required("smarthost", smarthost)
    username = m.optional("auth_username", fields.text, None)
    password_file = m.optional("auth_password_file", secret_file, None)
    if username is None and m.has("auth_password_file"):
        src.error(path, "auth_password_file needs auth_username")
        return None
    if None in (to, sender, host) or m.has("auth_password"):
        return None
    assert to and sender and host
    return EmailChannel(to, sender, host, username, password_file)


def _webhook(src: Source, path: KeyPath, data: Any) -> WebhookChannel | None:
    m = _channel_fields(src, path, data, ("url", "credentials_file"))
    url = m.required("url", http_url)
    credentials_file = m.optional("credentials_file", secret_file, None)
    if url is None or m.has("credentials"):
        return None
    return WebhookChannel(url, credentials_file)


def _names_given(data: Any) -> tuple[str, ...]:
    items = data if isinstance(data, list) else []
    found = [item.get("name") for item in items if isinstance(item, dict)]
    return tuple(dict.fromkeys(name for name in found if isinstance(name, str)))


def _reference(known: tuple[str, ...]) -> fields.Parser[str | None]:
    """A receiver name that one of the receivers carries (unchecked when no
    receiver has a name: that problem is reported already)."""

    def parse(src: Source, path: KeyPath, value: Any) -> str | None:
        if value in known:
            return str(value)
        if known:
            src.error(
                path,
                f"{fields.describe(value)} is not a receiver; accepted: "
                f"{', '.join(known)}",
            )
        return None

    return parse


def _routes(known: tuple[str, ...]) -> fields.Parser[dict[Severity, str] | None]:
    def parse(src: Source, path: KeyPath, data: Any) -> dict[Severity, str] | None:
        m = Mapping(src, path, data, SEVERITIES)
        if not m.valid:
            return None
        found: dict[Severity, str | None] = {
            severity: m.optional(severity, _reference(known), None)
            for severity in SEVERITIES
            if m.has(severity)
        }
        if None in found.values():
            return None
        return {severity: target for severity, target in found.items() if target}

    return parse
