"""The lab's exporter: a real ``runner-watchdog serve`` on a free loopback
port, its log in the lab directory.

It runs in a session of its own and is asked to die with the chaos command
(``PR_SET_PDEATHSIG``), so even a killed chaos run leaves no exporter
behind.
"""

from __future__ import annotations

import ctypes
import logging
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Final

from exporter.chaos.outcome import LabError

logger = logging.getLogger(__name__)

START_TIMEOUT_SECONDS: Final = 30.0
STOP_TIMEOUT_SECONDS: Final = 20.0
SCRAPE_TIMEOUT_SECONDS: Final = 10.0
_PR_SET_PDEATHSIG: Final = 1
_LISTENING: Final = "listening on "


def watchdog_command() -> str:
    """The ``runner-watchdog`` script of this installation. Run wrappers
    must be started through it: the exporter recognises them by name."""
    beside = Path(sys.executable).parent / "runner-watchdog"
    if beside.is_file():
        return str(beside)
    found = shutil.which("runner-watchdog")
    if found is None:
        raise LabError(
            "runner-watchdog is not installed beside this Python nor on PATH; "
            "install the project (make venv) first"
        )
    return found


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the chaos command dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ServedExporter:
    """``runner-watchdog serve --config CONFIG --listen 127.0.0.1:0``."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    watchdog_command(),
                    "serve",
                    "--config",
                    str(config),
                    "--listen",
                    "127.0.0.1:0",
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # safe: chaos starts no threads
            )
        self.url = self._wait_listening()

    def scrape(self) -> str:
        with urllib.request.urlopen(self.url, timeout=SCRAPE_TIMEOUT_SECONDS) as got:
            return str(got.read().decode())

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after a while; the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("exporter did not stop, killing process=%d", self.pid)
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_listening(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                if line.startswith(_LISTENING):
                    return line.removeprefix(_LISTENING).strip()
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-10:])
        raise LabError(f"the exporter did not start; the end of {self.log}:\n{tail}")
