"""Both console scripts answer --version and --help."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from exporter import __version__
from exporter.cli import main as watchdog_main
from rulegen.cli import main as rulegen_main


@pytest.mark.parametrize(
    ("command", "name"),
    [(watchdog_main, "runner-watchdog"), (rulegen_main, "rulegen")],
    ids=["runner-watchdog", "rulegen"],
)
def test_version_names_the_program_and_release(command, name):
    result = CliRunner().invoke(command, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"{name}, version {__version__}\n"


@pytest.mark.parametrize(
    "command", [watchdog_main, rulegen_main], ids=["rw", "rulegen"]
)
def test_help_lists_usage(command):
    result = CliRunner().invoke(command, ["--help"])
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ")
