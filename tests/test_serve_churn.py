"""200 short-lived processes a second under a watched runner root, for a
minute, against a real ``runner-watchdog serve``: no exception, no sample
error (a process leaving mid-read is a race, not an error), and neither
memory nor held descriptors grow."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from serve_support import config_text, exporter, fake_runner, new_marker, sample_value

from exporter.contract import (
    EXECUTIONS_TOTAL,
    SAMPLE_ERROR_REASONS,
    SAMPLE_ERRORS_TOTAL,
)

pytestmark = pytest.mark.slow

RATE_PER_SPAWNER = 100  # two spawners: 200 processes a second
EARLY_SECONDS, LATE_SECONDS = 10, 60
# Allowed resident growth between 10 s and 60 s: allocator noise, not a leak
# (a leak of one small object per process would be several MB here).
GROWTH_BYTES = 2 * 1024 * 1024

# Starts RATE short sleeps a second with posix_spawn and reaps them.
_SPAWNER = textwrap.dedent(
    """
    import os, sys, time
    rate = int(sys.argv[1])
    started = time.monotonic()
    count = 0
    while True:
        os.posix_spawnp("sleep", ["sleep", "0.05"], os.environ)
        count += 1
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        delay = started + count / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    """
)


def resident_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_churn_causes_no_error_and_no_growth(tmp_path: Path) -> None:
    marker = new_marker()
    config = tmp_path / "runner.yaml"
    config.write_text(config_text(tmp_path / "evidence", marker))
    rate = str(RATE_PER_SPAWNER)
    # One spawner is a job (its members come and go); the other is not, so
    # each of its sleeps is a job of its own that discovery finds or misses.
    in_job = [sys.executable, "-c", _SPAWNER, rate, "rw-test-job"]
    under_root = [sys.executable, "-c", _SPAWNER, rate]
    with (
        fake_runner(marker, in_job, under_root),
        exporter(config, "--listen", "127.0.0.1:0") as served,
    ):
        pid = served.process.pid
        started = time.monotonic()
        time.sleep(EARLY_SECONDS)
        early = (resident_bytes(pid), open_descriptors(pid))
        time.sleep(LATE_SECONDS - (time.monotonic() - started))
        late = (resident_bytes(pid), open_descriptors(pid))
        text = served.scrape()

    assert served.process.returncode == 0
    assert "Traceback" not in served.stderr
    assert " error " not in served.stderr and " warning " not in served.stderr
    for reason in SAMPLE_ERROR_REASONS:
        assert sample_value(text, SAMPLE_ERRORS_TOTAL, reason=reason) == 0, reason
    ended = sample_value(
        text,
        EXECUTIONS_TOTAL,
        service="runner",
        environment="ci",
        host="testhost",
        command_type="sleeper",
        result="unknown",
    )
    assert ended is not None and ended > 0  # short jobs were seen and ended
    assert late[0] - early[0] <= GROWTH_BYTES, (early, late)
    assert late[1] <= early[1] + 10, (early, late)
