"""The event envelope and its one-line encoding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import PurePosixPath

import pytest

from exporter.contract import EVIDENCE_SCHEMA_VERSION
from exporter.evidence.events import (
    build_event,
    encode_event,
    format_timestamp,
    parse_timestamp,
    process_identity,
)

MOMENT = datetime(2024, 3, 1, 23, 59, 59, 123456, tzinfo=UTC)


def _event(**fields: object) -> dict[str, object]:
    return build_event(
        moment=MOMENT,
        host="runner-7",
        environment="ci",
        command_type="pytest",
        kind="execution",
        fields=fields,
    )


def test_envelope_carries_every_required_key():
    event = _event(result="success", process=process_identity(4242, 1730457))
    assert event == {
        "schema_version": EVIDENCE_SCHEMA_VERSION,
        "timestamp": "2024-03-01T23:59:59.123456Z",
        "host": "runner-7",
        "environment": "ci",
        "command_type": "pytest",
        "kind": "execution",
        "result": "success",
        "process": "4242@1730457",
    }


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (MOMENT, "2024-03-01T23:59:59.123456Z"),
        (
            datetime(2024, 3, 2, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            "2024-03-01T23:00:00.000000Z",
        ),
        (datetime(2024, 3, 1, 12, 0), "2024-03-01T12:00:00.000000Z"),
    ],
    ids=["utc", "offset-converted", "naive-taken-as-utc"],
)
def test_timestamps_are_utc_with_microseconds(moment, text):
    assert format_timestamp(moment) == text
    assert parse_timestamp(text) == moment.replace(tzinfo=moment.tzinfo or UTC)


@pytest.mark.parametrize("key", ["timestamp", "host", "kind", "schema_version"])
def test_fields_may_not_reuse_an_envelope_key(key):
    with pytest.raises(ValueError, match=key):
        _event(**{key: "x"})


def test_encoding_is_one_compact_sorted_line():
    line = encode_event(_event(zeta=1, alpha="é\nnext"))
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    text = line.decode("utf-8")
    assert "é" in text  # kept as is, not \u escaped
    assert ", " not in text and ": " not in text
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_values_json_lacks_become_text_and_lone_surrogates_stay_valid_utf8():
    argv = b"ls \xff".decode("utf-8", errors="surrogateescape")
    line = encode_event(
        _event(path=PurePosixPath("/tmp/x"), since=MOMENT, tags={"b", "a"}, argv=argv)
    )
    decoded = json.loads(line.decode("utf-8"))
    assert decoded["path"] == "/tmp/x"
    assert decoded["since"] == "2024-03-01T23:59:59.123456Z"
    assert decoded["tags"] == ["a", "b"]
    assert decoded["argv"] == argv
