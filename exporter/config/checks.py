"""Checks beyond the schema for environments, command types, runners, metrics
and logging. Each reads possibly invalid data and looks only at values of
the right type: the schema already reports the others."""

from __future__ import annotations

import ipaddress
import math
import re
import urllib.parse
from typing import Any

from exporter.config.schema_problems import show
from exporter.config.security_checks import backtracking_problems, compile_pattern
from yamlsource import Document, KeyPath, Problem

_HOST_NAME = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


_URL_SHAPE = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")  # as the schema's


def check_sections(doc: Document, data: dict[str, Any]) -> list[Problem]:
    """Problems of every section except allowances and security; ``data``
    has the schema's defaults filled in."""
    return [
        *_environments(doc, _mapping(data.get("environments"))),
        *_command_types(doc, _mapping(data.get("command_types"))),
        *_runners(doc, data.get("runners")),
        *_metrics(doc, _mapping(data.get("metrics"))),
        *_rotation(doc, _mapping(_mapping(data.get("logging")).get("rotation"))),
    ]


def _environments(doc: Document, section: dict[str, Any]) -> list[Problem]:
    problems = []
    names = [name for name in section if name != "default"]
    default = section.get("default")
    if isinstance(default, str) and names and default not in names:
        message = (
            f"got {show(default)}; expected one of the environments defined "
            f"here: {', '.join(str(n) for n in names)}"
        )
        problems.append(doc.problem(("environments", "default"), message))
    for name in names:
        scale = _mapping(section[name]).get("scale")
        if isinstance(scale, float) and math.isnan(scale):
            path = ("environments", name, "scale")
            message = "got .nan; expected a number greater than 0 and at most 10"
            problems.append(doc.problem(path, message))
    return problems


def _command_types(doc: Document, section: dict[str, Any]) -> list[Problem]:
    problems = []
    claimed: dict[str, str] = {}  # executable -> the first type listing it
    for name, settings in section.items():
        settings = _mapping(settings)
        path: KeyPath = ("command_types", name)
        problems.extend(_argument_pattern(doc, path, settings))
        executables = settings.get("executables")
        for index, exe in enumerate(
            executables if isinstance(executables, list) else []
        ):
            if not isinstance(exe, str):
                continue
            if exe in claimed and claimed[exe] != name:
                message = (
                    f"executable {show(exe)} is also listed under command type "
                    f"{claimed[exe]!r}, which comes first and wins; expected "
                    "each executable under one type"
                )
                at = (*path, "executables", index)
                problems.append(doc.problem(at, message, severity="warning"))
            claimed.setdefault(exe, name)
    return problems


def _runners(doc: Document, runners: Any) -> list[Problem]:
    if not isinstance(runners, list):
        return []
    if not runners:
        message = (
            "no runner agents, so the exporter finds no jobs; expected at least "
            "one entry, or no runners key for the default list"
        )
        return [doc.problem(("runners",), message, severity="warning")]
    problems = []
    seen: dict[str, int] = {}
    for index, runner in enumerate(runners):
        runner = _mapping(runner)
        path: KeyPath = ("runners", index)
        problems.extend(_argument_pattern(doc, path, runner))
        name = runner.get("name")
        if not isinstance(name, str):
            continue
        if name in seen:
            message = (
                f"duplicate runner name {show(name)}; first at runners[{seen[name]}]; "
                "expected each name once"
            )
            problems.append(doc.problem((*path, "name"), message))
        seen.setdefault(name, index)
    return problems


def _argument_pattern(
    doc: Document, path: KeyPath, settings: dict[str, Any]
) -> list[Problem]:
    text = settings.get("argument_pattern")
    if not isinstance(text, str) or not text:
        return []
    at = (*path, "argument_pattern")
    pattern, problem = compile_pattern(doc, at, text)
    if problem is not None:
        return [problem]
    if pattern is not None and pattern.search("") is not None:
        message = (
            f"pattern {show(text)} matches the empty string, so it matches every "
            "process; expected a pattern that needs some text"
        )
        return [doc.problem(at, message, severity="warning")]
    return backtracking_problems(doc, at, text)


def _metrics(doc: Document, section: dict[str, Any]) -> list[Problem]:
    # web_config_file is not opened here: a config is often validated away
    # from the host it is meant for; the exporter reads it when it starts.
    problems = _pushgateway(doc, section.get("pushgateway_url"))
    address = section.get("listen_address")
    if not isinstance(address, str) or not address or _is_address(address):
        return problems
    message = (
        f"got {show(address)}; expected an IPv4 or IPv6 address without "
        "brackets (0.0.0.0, ::, 127.0.0.1) or a host name"
    )
    return [*problems, doc.problem(("metrics", "listen_address"), message)]


def _pushgateway(doc: Document, url: Any) -> list[Problem]:
    """The host and port the schema's URL pattern cannot judge."""
    if not isinstance(url, str) or not _URL_SHAPE.match(url):
        return []  # the schema reports it
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises on a port that is no port, or a bad [ipv6]
        host = parts.hostname or ""
    except ValueError:
        port, host = 0, ""
    if port != 0 and _is_address(host):
        return []
    message = (
        f"got {show(url)}; expected an http:// or https:// URL with a host "
        "name or address, and a port from 1 to 65535"
    )
    return [doc.problem(("metrics", "pushgateway_url"), message)]


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return bool(_HOST_NAME.match(text)) and not text.replace(".", "").isdigit()
    return True


def _rotation(doc: Document, section: dict[str, Any]) -> list[Problem]:
    per_file = _whole(section.get("max_file_bytes"))
    total = _whole(section.get("max_total_bytes"))
    if per_file is None or total is None or total >= per_file:
        return []
    path = ("logging", "rotation", "max_total_bytes")
    message = (
        f"total {total} bytes is less than one file ({per_file} bytes); "
        "expected max_total_bytes of at least max_file_bytes"
    )
    return [doc.problem(path, message)]


def _whole(value: Any) -> int | None:
    """An integer value; None for anything else (the schema reports it)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
