"""One evidence event: its envelope, its timestamp and its one-line encoding.

Every event is a flat JSON object. The envelope keys below are present in
every event; the caller's kind-specific fields sit beside them and may not
reuse an envelope key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Final

from exporter.contract import EVIDENCE_SCHEMA_VERSION

SCHEMA_VERSION_KEY: Final = "schema_version"
TIMESTAMP_KEY: Final = "timestamp"
HOST_KEY: Final = "host"
ENVIRONMENT_KEY: Final = "environment"
COMMAND_TYPE_KEY: Final = "command_type"
KIND_KEY: Final = "kind"
ENVELOPE_KEYS: Final = frozenset(
    {
        SCHEMA_VERSION_KEY,
        TIMESTAMP_KEY,
        HOST_KEY,
        ENVIRONMENT_KEY,
        COMMAND_TYPE_KEY,
        KIND_KEY,
    }
)


def as_utc(moment: datetime) -> datetime:
    """The same moment in UTC; a naive datetime is taken as UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z``, e.g.
    ``2024-03-01T12:00:00.000001Z``. A naive datetime is taken as UTC."""
    naive = as_utc(moment).replace(tzinfo=None)
    return naive.isoformat(timespec="microseconds") + "Z"


def parse_timestamp(text: str) -> datetime:
    """An RFC 3339 timestamp with its offset (as ``format_timestamp``
    writes) in UTC; ValueError for anything else."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a UTC offset: {text!r}")
    return moment.astimezone(UTC)


def process_identity(pid: int, start_time: int) -> str:
    """A process named by pid and start time together (``/proc/<pid>/stat``
    field 22, clock ticks since boot), so a reused pid reads differently:
    ``"4242@1730457"``."""
    return f"{pid}@{start_time}"


def build_event(
    *,
    moment: datetime,
    host: str,
    environment: str,
    command_type: str,
    kind: str,
    fields: Mapping[str, object],
) -> dict[str, object]:
    """The event as a dict: the envelope plus the caller's fields. A field
    that reuses an envelope key is a programming error (ValueError)."""
    clashing = ENVELOPE_KEYS.intersection(fields)
    if clashing:
        raise ValueError(f"evidence fields reuse envelope keys: {sorted(clashing)}")
    event: dict[str, object] = dict(fields)
    event[SCHEMA_VERSION_KEY] = EVIDENCE_SCHEMA_VERSION
    event[TIMESTAMP_KEY] = format_timestamp(moment)
    event[HOST_KEY] = host
    event[ENVIRONMENT_KEY] = environment
    event[COMMAND_TYPE_KEY] = command_type
    event[KIND_KEY] = kind
    return event


def encode_event(event: Mapping[str, object]) -> bytes:
    """One line: compact JSON, sorted keys, UTF-8 kept as is, ending in
    ``\\n``. JSON escapes any newline inside a value, so the only newline is
    the last byte. A lone surrogate (from undecodable argv bytes) is kept as
    its JSON escape, so the line stays valid UTF-8."""
    text = _ENCODER.encode(event)
    return (text + "\n").encode("utf-8", errors="backslashreplace")


def _plain(value: object) -> object:
    """Values JSON has no type for: times as RFC 3339, paths and anything
    else as text, sets as sorted lists."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain
)
