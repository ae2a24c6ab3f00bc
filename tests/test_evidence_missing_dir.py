"""An evidence directory that does not exist is refused by every command
that reads it, saying where the path came from: a mistyped ``--dir`` never
reads as an empty, healthy directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.config import shipped_config_path

SHIPPED_SPEC = Path(__file__).resolve().parents[1] / "slo.yaml"
COMMANDS = {
    "rotate": ["evidence", "rotate"],
    "verify": ["evidence", "verify"],
    "status": ["evidence", "status"],
    "report": ["report", "daily", "--spec", str(SHIPPED_SPEC)],
}
EXPECTED = "expected an existing directory (the exporter creates it when it starts)"


def _invoke(command: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*COMMANDS[command], *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_mistyped_dir_is_refused(tmp_path, command):
    typo = tmp_path / "evidnce"
    config = str(shipped_config_path())

    code, stdout, stderr = _invoke(command, "--dir", str(typo), "--config", config)

    assert (code, stdout) == (2, "")
    assert stderr.splitlines()[-1] == (
        f"runner-watchdog: {typo}: no such evidence directory (from --dir); {EXPECTED}"
    )
    assert not typo.exists()


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_missing_configured_directory_is_refused(tmp_path, command):
    config = tmp_path / "runner.yaml"
    missing = tmp_path / "gone"
    text = shipped_config_path().read_text()
    config.write_text(text.replace("evidence/runner", str(missing)))

    code, stdout, stderr = _invoke(command, "--config", str(config))

    assert (code, stdout) == (2, "")
    assert stderr.splitlines()[-1] == (
        f"runner-watchdog: {missing}: no such evidence directory "
        f"(logging.evidence_dir of {config}); {EXPECTED}"
    )


@pytest.mark.parametrize("command", ["verify", "status", "report"])
def test_a_configured_path_that_is_a_file_is_refused(tmp_path, command):
    config = tmp_path / "runner.yaml"
    afile = tmp_path / "afile"
    afile.write_text("")
    config.write_text(
        shipped_config_path().read_text().replace("evidence/runner", str(afile))
    )

    code, _, stderr = _invoke(command, "--config", str(config))

    assert code == 2
    assert stderr.splitlines()[-1] == (
        f"runner-watchdog: {afile}: not a directory (logging.evidence_dir of "
        f"{config}); expected the evidence directory"
    )
