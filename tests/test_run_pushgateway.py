"""``run --pushgateway``: a refusing gateway changes nothing; Debian's real
prometheus-pushgateway, started here on loopback, receives the metrics."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from run_support import BLOCKED_PATTERNS, WrapperConfig, run_wrapper, wrapper_argv

from exporter.contract import (
    AUTO_SKIPS_TOTAL,
    EXECUTION_DURATION,
    EXECUTIONS_TOTAL,
    STALLS_TOTAL,
)
from exporter.wrapper import exitcodes

CONFIG = WrapperConfig(
    host="pushhost",
    service="runner",
    allowed_commands=("printf", "true", "false", "sleep"),
    shells=(),
    blocked_patterns=BLOCKED_PATTERNS[:1],
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "runner.yaml"
    CONFIG.write(path, tmp_path / "evidence")
    return path


def run(
    config: Path, *argv: str, push: str | None = None, stall: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    options = ["--pushgateway", push] if push else []
    options += ["--stall", stall] if stall else []
    return run_wrapper(wrapper_argv(config, *argv, options=tuple(options)))


@pytest.mark.parametrize(
    ("argv", "code"),
    [(["printf", "out\\n"], 0), (["false"], 1)],
    ids=["success", "failure"],
)
def test_a_refusing_gateway_changes_neither_output_nor_exit_code(
    config: Path, argv: list[str], code: int
) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    plain = run(config, *argv)
    pushed = run(config, *argv, push=url)

    assert plain.returncode == pushed.returncode == code
    assert plain.stdout == pushed.stdout
    warnings = [
        line
        for line in pushed.stderr.decode().splitlines()
        if "metrics push failed:" in line
    ]
    assert len(warnings) == 1
    assert warnings[0].split(": ", 1)[1].startswith("metrics push failed:")
    assert "metrics push failed" not in plain.stderr.decode()


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    gateway = subprocess.Popen(
        [
            "prometheus-pushgateway",
            f"--web.listen-address=127.0.0.1:{port}",
            # Debian's default persists to /var/lib/prometheus: keep it here.
            f"--persistence.file={tmp_path / 'pushgateway.data'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or gateway.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("job") == "runner-watchdog-run":
                labels = {
                    k: v
                    for k, v in sample.labels.items()
                    if k not in {"job", "instance"}
                }
                values[(sample.name, frozenset(labels.items()))] = sample.value
    return values


def series(name: str, **extra: str) -> tuple[str, frozenset[tuple[str, str]]]:
    labels = {
        "service": "runner",
        "environment": "ci",
        "host": "pushhost",
        "command_type": "other",
        **extra,
    }
    return name, frozenset(labels.items())


def test_a_real_pushgateway_receives_the_metrics(
    config: Path, pushgateway: str
) -> None:
    codes = [
        run(config, "true", push=pushgateway).returncode,
        run(config, "true", push=pushgateway).returncode,
        run(config, "false", push=pushgateway).returncode,
    ]
    after_three = scrape(pushgateway)
    stalled = run(config, "sleep", "30", push=pushgateway, stall="1")
    values = scrape(pushgateway)

    assert codes == [0, 0, 1]
    assert after_three[series(EXECUTIONS_TOTAL, result="success")] == 2
    assert after_three[series(EXECUTIONS_TOTAL, result="failure")] == 1
    assert after_three[series(f"{EXECUTION_DURATION}_count")] == 3
    assert after_three[series(f"{EXECUTION_DURATION}_bucket", le="+Inf")] == 3
    assert STALLS_TOTAL not in {name for name, _ in after_three}

    assert stalled.returncode == exitcodes.STALL_KILLED
    assert b"metrics push failed" not in stalled.stderr
    assert values[series(EXECUTIONS_TOTAL, result="success")] == 2
    assert values[series(EXECUTIONS_TOTAL, result="skipped")] == 1
    assert values[series(STALLS_TOTAL, cause="idle")] == 1
    assert values[series(AUTO_SKIPS_TOTAL)] == 1
    assert values[series(f"{EXECUTION_DURATION}_count")] == 4

    # A later run carries the stall counters forward untouched.
    assert run(config, "true", push=pushgateway).returncode == 0
    latest = scrape(pushgateway)
    assert latest[series(EXECUTIONS_TOTAL, result="success")] == 3
    assert latest[series(STALLS_TOTAL, cause="idle")] == 1
    assert latest[series(AUTO_SKIPS_TOTAL)] == 1
