"""What readers take as a record, and what they count as torn."""

from __future__ import annotations

import pytest

from exporter.evidence import read_events
from exporter.evidence.reader import parse_line


@pytest.mark.parametrize(
    ("line", "record"),
    [
        (b'{"n":1}', {"n": 1}),
        ('{"note":"caf\u00e9"}'.encode(), {"note": "caf\u00e9"}),
        (b'{"n":1', None),
        (b'{"n":1}{"n":2}', None),
        (b'{"n":1}\r', None),
        (b"[1,2]", None),
        (b'"text"', None),
        (b' {"n":1}', None),
        (b'{"note":"caf\xc3', None),
    ],
    ids=[
        "object",
        "utf8",
        "cut",
        "two-glued",
        "carriage-return",
        "array",
        "string",
        "leading-space",
        "cut-mid-character",
    ],
)
def test_parse_line(line, record):
    assert parse_line(line) == record


def test_torn_lines_anywhere_are_counted_and_skipped(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_bytes(b'{"n":1}\n{"n":2,"cu\n{"n":3}\n\n{"n":4}\n{"n"')
    records, torn = read_events(path)
    assert [record["n"] for record in records] == [1, 3, 4]
    assert torn == 2
