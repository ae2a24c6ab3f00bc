"""Running promtool on generated files."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rulegen.tool import run_tool

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
    done = run_tool("promtool", PACKAGE, arguments, TIMEOUT_SECONDS)
    return done.stdout + done.stderr
