"""Running promtool on generated files."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rulegen.errors import CheckFailedError, ToolMissingError

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 600
PACKAGE = "prometheus"  # the Debian package that ships promtool


def check_rules(files: Sequence[Path]) -> str:
    """``promtool check rules``; raise CheckFailedError with its output."""
    return _run(["check", "rules", *map(str, files)])


def test_rules(files: Sequence[Path], workers: int = 4) -> str:
    """``promtool test rules``, one process per file, several at once."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outputs = list(pool.map(lambda f: _run(["test", "rules", str(f)]), files))
    return "".join(outputs)


def _run(arguments: list[str]) -> str:
    program = shutil.which("promtool")
    if program is None:
        raise ToolMissingError(
            f"promtool not found on PATH; install the Debian package {PACKAGE}"
        )
    log.debug("running command=%s", " ".join(["promtool", *arguments]))
    done = subprocess.run(
        [program, *arguments],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        command = " ".join(["promtool", *arguments])
        raise CheckFailedError(f"{command} failed:\n{output.strip()}")
    return output
