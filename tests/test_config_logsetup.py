"""The CLI's log setup: text or JSON lines at the configured level."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from exporter.config.model import LoggingSettings, Rotation
from exporter.logsetup import configure_from_settings, configure_logging


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_text_lines_carry_time_level_logger_message_and_extras():
    stream = io.StringIO()
    configure_logging("info", "text", stream)
    logging.getLogger("exporter.sampler").info(
        "sample done pids=%d", 3, extra={"ms": 2}
    )
    logging.getLogger("exporter.sampler").debug("hidden")
    line = stream.getvalue()
    assert line.endswith(" info exporter.sampler: sample done pids=3 ms=2\n")
    assert line[:4].isdigit() and line[23] == "Z"


def test_json_lines_are_one_object_each():
    stream = io.StringIO()
    configure_logging("debug", "json", stream)
    log = logging.getLogger("exporter.kill")
    log.debug("tree killed", extra={"members": 4})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("kill failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert {k: first[k] for k in ("level", "logger", "message", "members")} == {
        "level": "debug",
        "logger": "exporter.kill",
        "message": "tree killed",
        "members": 4,
    }
    assert first["time"].endswith("Z")
    assert second["level"] == "error"
    assert second["exception"].endswith("ValueError: boom")


def test_configuring_twice_replaces_the_handler_instead_of_doubling_lines():
    first, second = io.StringIO(), io.StringIO()
    configure_logging("info", "text", first)
    configure_logging("warning", "json", second)
    logging.getLogger("x").warning("once")
    logging.getLogger("x").info("filtered")
    assert first.getvalue() == ""
    assert [json.loads(line)["message"] for line in second.getvalue().splitlines()] == [
        "once"
    ]


def test_settings_from_the_config_with_a_level_flag_on_top():
    stream = io.StringIO()
    settings = LoggingSettings(
        level="error",
        format="json",
        evidence_dir=Path("evidence"),
        rotation=Rotation(1, 1, 1),
    )
    configure_from_settings(settings, level="info", stream=stream)
    logging.getLogger("y").info("shown")
    assert json.loads(stream.getvalue())["message"] == "shown"
