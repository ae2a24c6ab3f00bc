"""The CI workflows, systemd units and example web config under .github/ and
packaging/: they call what exists, parse where they are read, and work."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import bcrypt
import click
import pytest
from ruamel.yaml import YAML

from exporter.cli import main as watchdog_main
from exporter.config.locate import CONFIG_ENV_VAR, SYSTEM_CONFIG
from exporter.webconfig import load_web_config
from rulegen.cli import main as rulegen_main

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SYSTEMD = ROOT / "packaging" / "systemd"
UNITS = sorted(SYSTEMD.glob("runner-watchdog*.*"))
SERVICES = [unit for unit in UNITS if unit.suffix == ".service"]
WEB_CONFIG = ROOT / "packaging" / "web-config.example.yml"
INSTALLED_BIN = "/opt/runner-watchdog/bin/runner-watchdog"
# Host paths in the units, and what stands for them in a source checkout.
HOST_FILES = {
    str(SYSTEM_CONFIG): ROOT / "config" / "runner.yaml",
    "/etc/runner-watchdog/slo.yaml": ROOT / "slo.yaml",
}
PROGRAMS = {"runner-watchdog": watchdog_main, "rulegen": rulegen_main}


def load_yaml(path: Path) -> object:
    return YAML(typ="safe").load(path.read_text())  # YAML 1.2: `on` stays a key


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z0-9][a-z0-9-]*):", text, re.MULTILINE))


def run_scripts(workflow: Path) -> list[str]:
    data = load_yaml(workflow)
    assert isinstance(data, dict)
    return [
        step["run"]
        for job in data["jobs"].values()
        for step in job["steps"]
        if "run" in step
    ]


def resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command ``PROGRAM SUB [SUB]`` names, and the words after it."""
    command: click.Command = PROGRAMS[words[0]]
    rest = words[1:]
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        found = command.get_command(click.Context(command), rest[0])
        assert found is not None, f"{words[0]} has no subcommand {rest[0]!r}"
        command, rest = found, rest[1:]
    assert not isinstance(command, click.Group), f"incomplete command {words}"
    return command, rest


def unit_lines(unit: Path, key: str) -> list[str]:
    prefix = f"{key}="
    lines = unit.read_text().splitlines()
    return [line[len(prefix) :] for line in lines if line.startswith(prefix)]


def systemd_unescape(value: str) -> str:
    """``%%`` and ``$$``: the only specifier and escape the units use."""
    assert not re.search(r"%[^%]", value.replace("%%", "")), value
    return value.replace("%%", "%").replace("$$", "$")


def watchdog_invocations(exec_start: str) -> list[list[str]]:
    """Each ``runner-watchdog ...`` in an ExecStart, also after ``exec`` in a
    ``sh -c`` script (up to a redirection), as words."""
    words = shlex.split(systemd_unescape(exec_start))
    if words[:2] == ["/bin/sh", "-c"]:
        command = words[2].split("exec ", 1)[1].split(">", 1)[0]
        words = shlex.split(command)
    if Path(words[0]).name != "runner-watchdog":
        return []
    return [["runner-watchdog", *words[1:]]]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_jobs_run_steps_with_pinned_actions(workflow):
    data = load_yaml(workflow)

    assert isinstance(data, dict)
    assert data["on"], "no trigger"
    for name, job in data["jobs"].items():
        if workflow.stem == "evidence":  # on the hosts that hold evidence
            assert job["runs-on"][0] == "self-hosted", name
            assert job["if"] == "vars.RUNNER_WATCHDOG_HOSTS != ''", name
        else:
            assert job["runs-on"].startswith("ubuntu-"), name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"{name}: {step}"
            if "uses" in step:
                assert re.fullmatch(r"actions/[a-z-]+@v\d+", step["uses"]), step


def test_workflows_cover_pull_requests_and_weekly_schedules():
    triggers = {path.stem: load_yaml(path)["on"] for path in WORKFLOWS}

    assert "pull_request" in triggers["checks"]
    assert "pull_request" in triggers["security"]
    for name in ("chaos", "security"):
        (schedule,) = triggers[name]["schedule"]
        *_time, day, month, weekday = schedule["cron"].split()
        assert (day, month) == ("*", "*") and weekday.isdigit(), schedule


def test_workflow_make_targets_and_commands_exist():
    targets = makefile_targets()
    scripts = [script for path in WORKFLOWS for script in run_scripts(path)]
    called = [
        re.findall(r"^\s*(?:sudo )?make (.+)$", script, re.M) for script in scripts
    ]
    invocations = [words for found in called for words in map(shlex.split, found)]

    assert {"rules", "chaos", "test"} <= {words[0] for words in invocations}
    for words in invocations:
        assert words[0] in targets, f"make {words[0]}: no such Makefile target"
        for variable, value in (w.split("=", 1) for w in words[1:] if "=" in w):
            assert (ROOT / value).is_file(), f"{variable}={value}: no such file"
    program = r"^\s*(?:/opt/runner-watchdog/bin/)?((?:runner-watchdog|rulegen) .+?)"
    lines = [
        line
        for script in scripts
        for line in re.findall(program + r"(?: >.*)?$", script, re.M)
    ]
    assert sum(line.startswith("runner-watchdog evidence") for line in lines) >= 2
    for line in lines:
        resolve(shlex.split(line))


def test_bandit_settings_and_baseline_parse():
    settings = load_yaml(ROOT / ".github" / "bandit.yml")
    baseline = json.loads((ROOT / ".github" / "bandit-baseline.json").read_text())

    assert isinstance(settings, dict)
    assert all(re.fullmatch(r"B\d{3}", test) for test in settings["skips"])
    for finding in baseline["results"]:
        assert (ROOT / finding["filename"]).is_file(), finding["filename"]


@pytest.mark.parametrize("unit", SERVICES, ids=lambda path: path.name)
def test_units_read_the_system_config_the_cli_looks_for(unit):
    (environment,) = unit_lines(unit, "Environment")
    invocations = [
        w for line in unit_lines(unit, "ExecStart") for w in watchdog_invocations(line)
    ]

    assert environment == f"{CONFIG_ENV_VAR}={SYSTEM_CONFIG}"
    assert invocations
    for words in invocations:
        assert words[words.index("--config") + 1] == str(SYSTEM_CONFIG)


@pytest.mark.parametrize("unit", SERVICES, ids=lambda path: path.name)
def test_unit_commands_parse_with_the_real_cli(unit):
    for line in unit_lines(unit, "ExecStart"):
        for words in watchdog_invocations(line):
            command, args = resolve(words)
            args = [str(HOST_FILES.get(arg, arg)) for arg in args]
            args = ["2024-01-01" if arg == "$day" else arg for arg in args]

            context = command.make_context(words[1], args)

            assert context.params


def test_exporter_unit_keeps_only_the_capabilities_it_needs():
    unit = SYSTEMD / "runner-watchdog.service"
    needed = {"CAP_KILL", "CAP_SYS_PTRACE"}

    assert set(unit_lines(unit, "AmbientCapabilities")[0].split()) == needed
    assert set(unit_lines(unit, "CapabilityBoundingSet")[0].split()) == needed
    assert unit_lines(unit, "ProtectProc") == ["default"]
    assert unit_lines(unit, "ExecStart")[0].startswith(f"{INSTALLED_BIN} serve ")
    filters = unit_lines(unit, "SystemCallFilter")
    assert "@system-service" in filters and not any("@debug" in f for f in filters)
    assert "~process_vm_readv process_vm_writev" in filters


def test_evidence_unit_steps_run_in_order_on_real_evidence(tmp_path):
    evidence = tmp_path / "evidence"
    config = tmp_path / "runner.yaml"
    shipped = HOST_FILES[str(SYSTEM_CONFIG)].read_text()
    config.write_text(
        shipped.replace("evidence_dir: evidence/runner", f"evidence_dir: {evidence}")
    )
    (tmp_path / "reports").mkdir()
    installed = str(Path(sys.executable).parent / "runner-watchdog")
    run = [installed, "run", "--config", str(config), "--", "true"]
    subprocess.run(run, check=True, capture_output=True, cwd=tmp_path)

    unit = SYSTEMD / "runner-watchdog-evidence.service"
    for line in unit_lines(unit, "ExecStart"):
        line = line.replace(str(SYSTEM_CONFIG), str(config))
        line = line.replace("/etc/runner-watchdog/slo.yaml", str(ROOT / "slo.yaml"))
        argv = shlex.split(systemd_unescape(line.replace(INSTALLED_BIN, installed)))
        done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, f"{argv[:4]}: {done.stderr}"

    (report,) = (tmp_path / "reports").glob("*.json")
    assert json.loads(report.read_text())["date"] == report.stem


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed"
)
def test_units_pass_systemd_analyze_verify(tmp_path):
    installed = str(Path(sys.executable).parent / "runner-watchdog")
    for unit in UNITS:
        text = unit.read_text().replace(INSTALLED_BIN, installed)
        (tmp_path / unit.name).write_text(text)

    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / u.name) for u in UNITS)],
        capture_output=True,
        text=True,
    )

    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_example_web_config_loads_with_tls_and_basic_auth(tmp_path):
    (tmp_path / "tls").mkdir()
    shutil.copy(WEB_CONFIG, tmp_path / "web-config.yml")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "tls/exporter.key",
            "-out",
            "tls/exporter.crt",
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )

    loaded = load_web_config(tmp_path / "web-config.yml")

    assert loaded.tls is not None
    assert loaded.tls.cert_file == tmp_path / "tls" / "exporter.crt"
    assert list(loaded.users) == ["prometheus"]
    for guess in ("", "prometheus", "password", "changeme"):
        assert not bcrypt.checkpw(guess.encode(), loaded.users["prometheus"])
