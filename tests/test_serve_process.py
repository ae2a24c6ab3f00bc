"""``runner-watchdog serve`` as a real process: it says which config it
read and where it listens, flags a stalled job on /metrics and in evidence
with output promtool accepts, refuses an invalid config, and on SIGHUP keeps
its last good config (config_valid 0) until the file is fixed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from serve_support import (
    COMMAND,
    config_text,
    exporter,
    fake_runner,
    new_marker,
    sample_value,
    wait_for,
)

from exporter.contract import (
    CONFIG_VALID,
    EXECUTIONS_TOTAL,
    STALLS_TOTAL,
    WATCHED_JOBS,
)

pytestmark = pytest.mark.slow

SLEEPER = {
    "service": "runner",
    "environment": "ci",
    "host": "testhost",
    "command_type": "sleeper",
}


def write_config(tmp_path: Path, marker: str, text: str | None = None) -> Path:
    path = tmp_path / "runner.yaml"
    path.write_text(text or config_text(tmp_path / "evidence", marker))
    return path


def stalls(text: str) -> float | None:
    return sample_value(text, STALLS_TOTAL, **SLEEPER, cause="idle")


def test_a_stalled_job_reaches_metrics_and_evidence(tmp_path: Path) -> None:
    marker = new_marker()
    config = write_config(tmp_path, marker)
    # The runner is there first: new roots are found by a full scan of /proc,
    # which runs on the first pass and then every tenth.
    with (
        fake_runner(marker, ["sleep", "600"]),
        exporter(config, "--listen", "127.0.0.1:0") as served,
    ):
        first = served.scrape()
        wait_for(lambda: stalls(served.scrape()) == 1)
        text = served.scrape()
    checked = subprocess.run(
        ["promtool", "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )

    assert stalls(first) in (0, 1)  # the series exists from the start
    assert served.process.returncode == 0
    assert served.lines[0] == f"config: {config} (from --config)\n"
    assert "environment: ci\n" in served.lines
    assert served.url.startswith("http://127.0.0.1:")
    assert sample_value(text, WATCHED_JOBS, **SLEEPER) == 1
    assert sample_value(text, CONFIG_VALID) == 1
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [event] = read_events(tmp_path / "evidence" / "stall-events.jsonl")
    assert (event["command_type"], event["cause"]) == ("sleeper", "idle")
    assert "Traceback" not in served.stderr


def test_an_invalid_config_is_refused_at_start(tmp_path: Path) -> None:
    marker = new_marker()
    text = config_text(tmp_path / "evidence", marker).replace(
        "stall_seconds: 2", "stall_seconds: 1"
    )
    config = write_config(tmp_path, marker, text)

    done = subprocess.run(
        [COMMAND, "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert f"config: {config} (from --config)" in done.stderr
    assert f"{config}:2:" in done.stderr
    assert "timeouts.stall_seconds" in done.stderr
    assert "listening" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "listen",
    [
        pytest.param("127.0.0.1", id="no-port"),
        pytest.param("127.0.0.1:99999", id="port-too-high"),
    ],
)
def test_a_bad_listen_address_is_refused(tmp_path: Path, listen: str) -> None:
    config = write_config(tmp_path, new_marker())

    done = subprocess.run(
        [COMMAND, "serve", "--config", str(config), "--listen", listen],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "expected ADDR:PORT" in done.stderr


def test_sighup_keeps_the_last_good_config_until_fixed(tmp_path: Path) -> None:
    marker = new_marker()
    good = config_text(tmp_path / "evidence", marker)
    # Invalid (a base allowance under two sample intervals), and it would
    # give sleepers 30 s if it were applied.
    bad = good.replace("stall_seconds: 2", "stall_seconds: 1").replace(
        "    executables: [sleep]", "    executables: [sleep]\n    stall_seconds: 30"
    )
    fixed = good.replace(
        "  sleeper:",
        "  napper:\n    executables: [nap]\n    action: observe\n  sleeper:",
    )
    config = write_config(tmp_path, marker, good)
    go = tmp_path / "go"
    os.mkfifo(go)
    later = ["sh", "-c", f"read line < {go}; exec sleep 600"]
    with (
        fake_runner(marker, later),
        exporter(config, "--listen", "127.0.0.1:0") as served,
    ):
        config.write_text(bad)
        served.signal(signal.SIGHUP)
        wait_for(lambda: sample_value(served.scrape(), CONFIG_VALID) == 0)
        go.write_text("now\n")  # a job starts after the refused reload
        wait_for(lambda: stalls(served.scrape()) == 1)
        still_invalid = sample_value(served.scrape(), CONFIG_VALID)

        config.write_text(fixed)
        served.signal(signal.SIGHUP)
        wait_for(lambda: sample_value(served.scrape(), CONFIG_VALID) == 1)
        text = served.scrape()

    assert still_invalid == 0
    [event] = read_events(tmp_path / "evidence" / "stall-events.jsonl")
    assert event["thresholds"]["stall_seconds"] == 2  # the last good config's
    napper = {**SLEEPER, "command_type": "napper"}
    assert sample_value(text, STALLS_TOTAL, **napper, cause="idle") == 0
    assert "config reload failed, keeping the last good config" in served.stderr
    assert f"config problem: {config}:2:" in served.stderr
    assert "config reloaded" in served.stderr
    assert served.process.returncode == 0


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_job_under_a_run_wrapper_is_counted_once(tmp_path: Path) -> None:
    marker = new_marker()
    config = write_config(tmp_path, marker)
    go = tmp_path / "go"
    os.mkfifo(go)
    # A step that becomes the run wrapper once the exporter watches the root;
    # the wrapper's sleep outlives several samples.
    run = f"{COMMAND} run --config {config} --stall 30 -- sleep 3"
    step = ["sh", "-c", f"read line < {go}; exec {run}"]
    unknown = {**SLEEPER, "result": "unknown"}
    success = {**SLEEPER, "result": "success"}
    with (
        fake_runner(marker, step),
        exporter(config, "--listen", "127.0.0.1:0") as served,
    ):
        go.write_text("run\n")
        wait_for(
            lambda: sample_value(served.scrape(), EXECUTIONS_TOTAL, **success) == 1
        )
        text = served.scrape()

    assert sample_value(text, EXECUTIONS_TOTAL, **unknown) == 0
    assert sample_value(text, STALLS_TOTAL, **SLEEPER, cause="idle") == 0
    [execution] = read_events(tmp_path / "evidence" / "executions.jsonl")
    assert execution["watched_by"] == "run"  # written by the wrapper alone


def test_a_busy_port_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, new_marker())
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                COMMAND,
                "serve",
                "--config",
                str(config),
                "--listen",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
