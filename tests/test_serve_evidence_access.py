"""``serve`` and its evidence directory: created when missing; refused at
start, in one line naming the directory and the permission, when the
exporter could not use it at all; a wrapper's stream it cannot read is
warned about once, counted on every pass and read again once fixed, while
sampling goes on. The suite runs as root, so the exporter runs in a child
that drops to nobody after its imports."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from serve_support import config_text, new_marker, sample_value, scrape, wait_for

from exporter.contract import EXECUTIONS_TOTAL, SAMPLE_ERRORS_TOTAL
from exporter.evidence.events import build_event, encode_event
from exporter.service import ExporterService, ServeOptions

pytestmark = pytest.mark.slow

NOBODY = 65534
SERVE_AS_NOBODY = """
import os, sys
import encodings.idna  # binding the server looks its name up
import exporter.commands.serve_cmd
from exporter.cli import main
os.setgroups([]); os.setgid(65534); os.setuid(65534)
main(sys.argv[1:])
"""


def write_config(base: Path, evidence: Path) -> Path:
    config = base / "runner.yaml"
    config.write_text(config_text(evidence, new_marker()))
    config.chmod(0o644)
    return config


class NobodyExporter:
    """``runner-watchdog serve`` as nobody on a free loopback port; its
    stderr is collected line by line."""

    def __init__(self, config: Path) -> None:
        argv = ["serve", "--config", str(config), "--listen", "127.0.0.1:0"]
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE_AS_NOBODY, *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def url(self) -> str | None:
        found = [line for line in self.lines if line.startswith("listening on ")]
        return found[0].removeprefix("listening on ") if found else None

    def wait(self) -> int:
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return code

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.wait()


@contextmanager
def nobody_exporter(config: Path) -> Iterator[NobodyExporter]:
    served = NobodyExporter(config)
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.process.kill()
        served.wait()


def test_a_directory_of_roots_refuses_the_start(shared_tmp: Path) -> None:
    evidence = shared_tmp / "evidence"
    evidence.mkdir(mode=0o700)
    config = write_config(shared_tmp, evidence)

    with nobody_exporter(config) as served:
        code = served.wait()

    assert code == 2
    assert served.url is None
    assert "Traceback" not in "\n".join(served.lines)
    assert served.lines[-1] == (
        f"runner-watchdog: {evidence}: read, write and search permission needed; "
        "it is drwx------ owned by uid 0, running as uid 65534"
    )
    assert os.listdir(evidence) == []


def test_a_directory_it_cannot_create_refuses_the_start(shared_tmp: Path) -> None:
    evidence = shared_tmp / "var" / "evidence"
    config = write_config(shared_tmp, evidence)

    with nobody_exporter(config) as served:
        code = served.wait()

    assert code == 2
    assert served.lines[-1] == (
        f"runner-watchdog: {shared_tmp}: write and search permission needed; "
        "it is drwxr-xr-x owned by uid 0, running as uid 65534; "
        f"needed to create {evidence}"
    )
    assert not (shared_tmp / "var").exists()


def test_a_missing_directory_is_created_owner_only_at_start(tmp_path: Path) -> None:
    evidence = tmp_path / "state" / "evidence"
    config = write_config(tmp_path, evidence)

    service = ExporterService(ServeOptions(config, listen=("127.0.0.1", 0)), "test")
    service.stop()

    assert stat.S_IMODE(evidence.stat().st_mode) == 0o700


def test_an_unreadable_executions_file_is_warned_counted_and_retried(
    shared_tmp: Path,
) -> None:
    evidence = shared_tmp / "evidence"
    evidence.mkdir(mode=0o700)
    os.chown(evidence, NOBODY, NOBODY)
    executions = evidence / "executions.jsonl"
    executions.write_bytes(b"")  # root's, mode 0600, as a root `run` leaves it
    executions.chmod(0o600)
    config = write_config(shared_tmp, evidence)

    with nobody_exporter(config) as served:
        wait_for(lambda: served.url is not None)
        url = served.url
        assert url is not None

        def errors(reason: str) -> float | None:
            return sample_value(scrape(url), SAMPLE_ERRORS_TOTAL, reason=reason)

        wait_for(lambda: (errors("evidence_record") or 0) >= 3)  # every pass
        warnings = [line for line in served.lines if " warning " in line]

        os.chown(executions, NOBODY, NOBODY)
        wait_for(lambda: any("evidence readable again" in x for x in served.lines))
        with executions.open("ab") as stream:  # a wrapper's execution event
            stream.write(_execution_event())
        wait_for(lambda: executions_counted(scrape(url)) == 1)
        internal = errors("internal")
        assert served.stop() == 0

    assert warnings == [
        warnings[0].split(" warning ")[0]
        + " warning exporter.executions: evidence unreadable, retrying every pass "
        f"stream=executions error={executions}: read permission needed; "
        "it is -rw------- owned by uid 0, running as uid 65534"
    ]
    assert internal == 0
    assert "Traceback" not in "\n".join(served.lines)


def executions_counted(text: str) -> float | None:
    return sample_value(
        text, EXECUTIONS_TOTAL, command_type="sleeper", result="success"
    )


def _execution_event() -> bytes:
    event = build_event(
        moment=datetime.now(UTC),
        host="testhost",
        environment="ci",
        command_type="sleeper",
        kind="execution",
        fields={"result": "success", "duration_seconds": 1.5},
    )
    return encode_event(event)
