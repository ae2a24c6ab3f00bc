"""Helpers for the ``runner-watchdog run`` and tree-kill tests: a config
written per test, markers that find survivors among all processes, and the
installed CLI run in its own session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from exporter.procfs import read_stat

WATCHDOG = str(Path(sys.executable).parent / "runner-watchdog")

# Patterns a CI host would block: wiping /, curl piped into sh, a fork bomb,
# writing to a raw disk.
BLOCKED_PATTERNS = (
    r"rm\s+-rf\s+/(\s|$)",
    r"\bcurl\b[^|]*\|\s*sh\b",
    r":\(\)\s*\{",
    r"of=/dev/sd[a-z]",
)


@dataclass(frozen=True)
class WrapperConfig:
    """The fields in which the tests' configs differ; every other value is
    fixed (stall 60 s, hard timeout 120 s, sampling every second, one
    environment ``ci`` and one command type ``test`` for pytest, killed)."""

    kill_grace_seconds: int = 1
    argument_pattern: str | None = None
    host: str = "testhost"
    service: str | None = None
    allowed_commands: tuple[str, ...] = ("python3", "sleep", "true", "printf")
    shells: tuple[str, ...] = ("sh",)  # none: allow_shell is false
    blocked_patterns: tuple[str, ...] = BLOCKED_PATTERNS

    def data(self, evidence: Path) -> dict[str, object]:
        test_type: dict[str, object] = {"executables": ["pytest"]}
        if self.argument_pattern is not None:
            test_type["argument_pattern"] = self.argument_pattern
        test_type["action"] = "kill"

        metrics = {"host": self.host}
        if self.service is not None:
            metrics["service"] = self.service

        security: dict[str, object] = {
            "allowed_commands": list(self.allowed_commands),
            "allow_shell": bool(self.shells),
        }
        if self.shells:
            security["shells"] = list(self.shells)
        security["blocked_patterns"] = list(self.blocked_patterns)

        return {
            "timeouts": {
                "stall_seconds": 60,
                "hard_timeout_seconds": 120,
                "kill_grace_seconds": self.kill_grace_seconds,
                "sample_interval_seconds": 1,
            },
            "environments": {"default": "ci", "ci": {"scale": 1.0}},
            "command_types": {"test": test_type},
            "metrics": metrics,
            "logging": {"evidence_dir": str(evidence)},
            "security": security,
        }

    def write(self, path: Path, evidence: Path) -> None:
        """Write the config as JSON, which is YAML too."""
        path.write_text(json.dumps(self.data(evidence), indent=2) + "\n")


def sleep_marker(lead: int) -> str:
    """A sleep length unlikely to stand in any other command line: ``lead``
    thousand-odd seconds, with digits from this pid and the clock."""
    return f"{lead}{os.getpid() % 1000}.{time.monotonic_ns() % 10**6:06d}"


def marked(marker: str, *, confirm_alive: bool = False) -> list[int]:
    """Live processes whose command line holds ``marker`` (a zombie's
    command line is empty). With ``confirm_alive``, a process whose stat
    shows it exited after its command line was read is left out too."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                if marker.encode() not in cmdline.read():
                    continue
        except OSError:
            continue
        if confirm_alive:
            stat = read_stat(int(name))
            if stat is None or stat.exited:
                continue
        found.append(int(name))
    return found


def kill_marked(marker: str, *, confirm_alive: bool = False) -> None:
    """SIGKILL the processes this test marked; only needed after a failure."""
    for pid in marked(marker, confirm_alive=confirm_alive):
        os.kill(pid, signal.SIGKILL)


def wrapper_argv(
    config: Path, *command: str, options: tuple[str, ...] = ()
) -> list[str]:
    return [WATCHDOG, "run", "--config", str(config), *options, "--", *command]


def run_wrapper(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout_seconds: float = 120,
    stdin: int | None = None,
    preexec_fn: Callable[[], object] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` (a wrapper command line) to its end in a new session."""
    return subprocess.run(
        argv,
        stdin=stdin,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=timeout_seconds,
        start_new_session=True,
        preexec_fn=preexec_fn,
        check=False,
    )


@dataclass
class Setup:
    """One test's config, evidence directory, marker and environment."""

    config: Path
    evidence: Path
    marker: str
    env: dict[str, str]
    cwd: Path | None = None  # None: the test process's own
    timeout_seconds: float = 120

    def events(self, stream: str) -> list[dict[str, object]]:
        path = self.evidence / f"{stream}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def argv(self, *command: str, options: tuple[str, ...] = ()) -> list[str]:
        return wrapper_argv(self.config, *command, options=options)

    def write_config(self, config: WrapperConfig) -> None:
        config.write(self.config, self.evidence)


def wrapper_env() -> dict[str, str]:
    """This environment with the venv's commands first and no config or
    environment chosen from outside."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env.pop("RUNNER_WATCHDOG_CONFIG", None)
    env.pop("RUNNER_WATCHDOG_ENV", None)
    return env


@contextmanager
def wrapper_setup(
    tmp_path: Path,
    config: WrapperConfig,
    *,
    marker_lead: int,
    cwd: Path | None = None,
    timeout_seconds: float = 120,
) -> Iterator[Setup]:
    """A Setup in ``tmp_path`` with ``config`` written; afterwards whatever
    still carries its marker is killed."""
    setup = Setup(
        config=tmp_path / "runner.yaml",
        evidence=tmp_path / "evidence",
        marker=sleep_marker(marker_lead),
        env=wrapper_env(),
        cwd=cwd,
        timeout_seconds=timeout_seconds,
    )
    setup.write_config(config)
    yield setup
    kill_marked(setup.marker)


def run(
    setup: Setup,
    *command: str,
    options: tuple[str, ...] = (),
    launcher: tuple[str, ...] = (),
    stdin: int | None = None,
    preexec_fn: Callable[[], object] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """The wrapper run to its end; ``launcher`` goes before it (``unshare``)."""
    return run_wrapper(
        [*launcher, *setup.argv(*command, options=options)],
        env=setup.env,
        cwd=setup.cwd,
        timeout_seconds=setup.timeout_seconds,
        stdin=stdin,
        preexec_fn=preexec_fn,
    )


def start(setup: Setup, *command: str) -> subprocess.Popen[bytes]:
    """The wrapper, once its command printed its first line, ``ready``."""
    wrapper = subprocess.Popen(
        setup.argv(*command),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=setup.env,
        cwd=setup.cwd,
        start_new_session=True,
    )
    assert wrapper.stdout is not None
    assert wrapper.stdout.readline() == b"ready\n"
    return wrapper
