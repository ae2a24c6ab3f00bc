"""The jobs of the end-to-end test, started on a thread under a fake runner
root: first jobs that stall (the exporter kills each one: a stall and a
``skipped`` execution), then only successful runs through the run wrapper
(``success`` executions), so the stall ratio burns and then recovers."""

from __future__ import annotations

import threading
from pathlib import Path

from exporter.chaos.fakerunner import FakeRunner

STALL_EVERY_SECONDS = 10.0
SUCCEED_EVERY_SECONDS = 2.0
STALLING_JOB = ["sh", "-c", "read never", "rw-test-job"]  # the hanger type


class Traffic:
    def __init__(self, runner: FakeRunner, command: str, config: Path) -> None:
        self._runner = runner
        self._succeeding_job = [
            command,
            "run",
            "--config",
            str(config),
            "--type",
            "hanger",
            "--",
            "true",
        ]
        self._mode = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-traffic")
        self.started = {"stall": 0, "succeed": 0}

    def stall(self) -> None:
        self._switch("stall")

    def succeed(self) -> None:
        self._switch("succeed")

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _switch(self, mode: str) -> None:
        self._mode = mode
        if not self._thread.is_alive():
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            mode = self._mode
            if mode == "stall":
                self._runner.spawn([STALLING_JOB])
                pause = STALL_EVERY_SECONDS
            else:
                self._runner.spawn([self._succeeding_job])
                pause = SUCCEED_EVERY_SECONDS
            self.started[mode] += 1
            self._stop.wait(pause)
