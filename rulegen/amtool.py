"""Running amtool (Alertmanager's own checker) on generated files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from rulegen.tool import run_tool

TIMEOUT_SECONDS = 120
PACKAGE = "prometheus-alertmanager"  # the Debian package that ships amtool


def check_config(config: Path) -> str:
    """``amtool check-config``; raise CheckFailedError with its output."""
    return _run(["check-config", str(config)])


def route(config: Path, labels: Mapping[str, str], receivers: list[str]) -> str:
    """``amtool config routes test``: the label set must reach exactly
    ``receivers``, in that order."""
    return _run(
        [
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            f"--verify.receivers={','.join(receivers)}",
            *(f"{name}={value}" for name, value in sorted(labels.items())),
        ]
    )


def render(templates_glob: Path, text: str, data: Path) -> str:
    """``amtool template render`` of ``text`` with the notification ``data``."""
    return _run(
        [
            "template",
            "render",
            f"--template.glob={templates_glob}",
            f"--template.text={text}",
            f"--template.data={data}",
        ]
    )


def _run(arguments: list[str]) -> str:
    done = run_tool("amtool", PACKAGE, arguments, TIMEOUT_SECONDS)
    return done.stdout
