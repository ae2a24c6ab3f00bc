"""Allowlist, shells and blocked patterns, on a search path made here."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from exporter.commandpolicy import decide, shell_scripts
from exporter.config.model import Security

BLOCKED = (
    re.compile(r"rm\s+-rf\s+/(\s|$)"),
    re.compile(r"curl[^|]*\|\s*sh"),
)


def security(
    *, allow_shell: bool = True, shells: tuple[str, ...] = ("sh", "bash")
) -> Security:
    return Security(
        allowed_commands=("make", "python3 -m pytest", "/opt/tools/deploy"),
        blocked_patterns=BLOCKED,
        allow_shell=allow_shell,
        shells=shells,
    )


@pytest.fixture
def bin_path(tmp_path: Path) -> str:
    """A PATH with executables named like real tools (and one symlink)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for name in ("make", "python3", "sh", "bash", "zsh", "rm", "curl", "deploy"):
        tool = directory / name
        tool.write_text("#!/bin/true\n")
        tool.chmod(0o755)
    (directory / "gmake").symlink_to(directory / "make")
    (directory / "notes").write_text("not executable")
    return str(directory)


@pytest.mark.parametrize(
    ("argv", "allowed", "rule"),
    [
        pytest.param(["make", "-j4"], True, "security.allowed_commands[0]", id="name"),
        pytest.param(
            ["python3", "-m", "pytest", "-q"],
            True,
            "security.allowed_commands[1]",
            id="leading-args",
        ),
        pytest.param(
            ["python3", "script.py"],
            False,
            "security.allowed_commands",
            id="other-args",
        ),
        pytest.param(
            ["gmake"], False, "security.allowed_commands", id="symlink-keeps-its-name"
        ),
        pytest.param(
            ["deploy"], False, "security.allowed_commands", id="path-entry-elsewhere"
        ),
        pytest.param(
            ["rm", "-rf", "/"], False, "security.blocked_patterns[0]", id="rm"
        ),
        pytest.param(
            ["sh", "-c", "curl http://x | sh"],
            False,
            "security.blocked_patterns[1]",
            id="script-blocked",
        ),
        pytest.param(
            ["bash", "-ec", "echo ok; sh -c 'rm -rf /'"],
            False,
            "security.blocked_patterns[0]",
            id="nested-script",
        ),
        pytest.param(
            ["sh", "-c", "sleep 600 & wait"], True, "security.shells", id="shell-listed"
        ),
        pytest.param(
            ["zsh", "-c", "true"], False, "security.shells", id="shell-unlisted"
        ),
        pytest.param(["nosuch"], False, "executable", id="not-found"),
        pytest.param(["notes"], False, "executable", id="not-executable"),
        pytest.param([], False, "argv", id="empty"),
    ],
)
def test_decisions(bin_path: str, argv: list[str], allowed: bool, rule: str) -> None:
    decision = decide(security(), argv, path=bin_path)

    assert (decision.allowed, decision.rule) == (allowed, rule)
    assert decision.verdict == ("allowed" if allowed else "refused")


@pytest.fixture
def lookalikes(tmp_path: Path) -> Path:
    """Executables named like allowed tools outside the search path."""
    directory = tmp_path / "lookalikes"
    directory.mkdir()
    for name in ("make", "sh"):
        tool = directory / name
        tool.write_text("#!/bin/true\n")
        tool.chmod(0o755)
    return directory


@pytest.mark.parametrize(
    ("command", "args", "allowed", "rule"),
    [
        pytest.param("{bin}/make", [], True, "security.allowed_commands[0]", id="same"),
        pytest.param(
            "{bin}/../bin/make", [], True, "security.allowed_commands[0]", id="dotdot"
        ),
        pytest.param(
            "{other}/make", [], False, "security.allowed_commands", id="lookalike"
        ),
        pytest.param(
            "{bin}/sh", ["-c", "true"], True, "security.shells", id="same-shell"
        ),
        pytest.param(
            "{other}/sh",
            ["-c", "true"],
            False,
            "security.allowed_commands",
            id="lookalike-shell",
        ),
    ],
)
def test_a_path_is_a_name_only_when_the_search_finds_that_file(
    bin_path: str,
    lookalikes: Path,
    command: str,
    args: list[str],
    allowed: bool,
    rule: str,
) -> None:
    argv = [command.format(bin=bin_path, other=lookalikes), *args]

    decision = decide(security(), argv, path=bin_path)

    assert (decision.allowed, decision.rule) == (allowed, rule)


def test_resolved_executable_is_recorded(bin_path: str) -> None:
    decision = decide(security(), ["make"], path=bin_path)
    assert decision.executable == os.path.join(bin_path, "make")
    assert decide(security(), ["nosuch"], path=bin_path).not_found


def test_shells_need_allow_shell(bin_path: str) -> None:
    decision = decide(security(allow_shell=False), ["sh", "-c", "true"], path=bin_path)
    assert (decision.allowed, decision.rule) == (False, "security.allow_shell")
    assert "allow_shell is false" in decision.detail


def test_shell_behind_a_launcher_is_found(bin_path: str) -> None:
    decision = decide(
        security(allow_shell=False), ["make", "bash", "-c", "true"], path=bin_path
    )
    assert (decision.allowed, decision.rule) == (False, "security.allow_shell")


@pytest.mark.parametrize(
    ("argv", "scripts"),
    [
        pytest.param(["sh", "-c", "a b"], ["a b"], id="plain"),
        pytest.param(["bash", "-o", "pipefail", "-c", "x"], ["x"], id="option-arg"),
        pytest.param(["sh", "script.sh"], [], id="file"),
        pytest.param(["sh", "-c"], [], id="missing-script"),
        pytest.param(
            ["sh", "-c", "bash -c 'dash -c \"deep\"'"],
            ["bash -c 'dash -c \"deep\"'", 'dash -c "deep"', "deep"],
            id="nested",
        ),
        pytest.param(
            ["sh", "-c", "echo 'unbalanced"], ["echo 'unbalanced"], id="bad-quotes"
        ),
    ],
)
def test_shell_scripts(argv: list[str], scripts: list[str]) -> None:
    assert shell_scripts(argv) == scripts
