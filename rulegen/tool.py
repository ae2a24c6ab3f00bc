"""Running one of the Prometheus project's own checkers (promtool, amtool)
and turning its failure into CheckFailedError with the tool's output."""

from __future__ import annotations

import logging
import shutil
import subprocess

from rulegen.errors import CheckFailedError, ToolMissingError

log = logging.getLogger(__name__)


def run_tool(
    name: str, package: str, arguments: list[str], timeout_seconds: float
) -> subprocess.CompletedProcess[str]:
    """Run ``name`` with ``arguments``; raise ToolMissingError naming the
    Debian ``package`` when it is not on PATH, CheckFailedError on a
    non-zero exit."""
    program = shutil.which(name)
    if program is None:
        raise ToolMissingError(
            f"{name} not found on PATH; install the Debian package {package}"
        )
    command = " ".join([name, *arguments])
    log.debug("running command=%s", command)
    done = subprocess.run(
        [program, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout_seconds,
        check=False,
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise CheckFailedError(f"{command} failed:\n{output}")
    return done
