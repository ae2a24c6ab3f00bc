"""Finding the config file and the environment, the shared click options, and
the exit codes of `config validate` and of commands that load a config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.config import (
    ConfigInvalid,
    ConfigUnreadable,
    config_option,
    env_option,
    load_config,
    locate,
    resolve_config_path,
    resolve_config_source,
    resolve_environment,
    shipped_config_path,
)
from exporter.errors import InvalidInputError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config" / "runner.yaml"


def line_of(needle: str) -> int:
    """The 1-based line of the shipped config that holds ``needle``."""
    lines = SHIPPED.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


@pytest.fixture(autouse=True)
def no_host_config(monkeypatch, tmp_path):
    """Neither the caller's environment nor this machine's /etc decides."""
    monkeypatch.delenv("RUNNER_WATCHDOG_CONFIG", raising=False)
    monkeypatch.delenv("RUNNER_WATCHDOG_ENV", raising=False)
    monkeypatch.setattr(locate, "SYSTEM_CONFIG", tmp_path / "etc" / "runner.yaml")


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "runner.yaml"
    shutil.copyfile(SHIPPED, path)
    return path


def test_flag_wins_over_everything(monkeypatch, config_file):
    monkeypatch.setenv("RUNNER_WATCHDOG_CONFIG", "/elsewhere.yaml")
    source = resolve_config_source(str(config_file))
    assert (source.path, source.origin) == (config_file, "from --config")


def test_environment_variable_comes_next(monkeypatch, config_file):
    monkeypatch.setenv("RUNNER_WATCHDOG_CONFIG", str(config_file))
    source = resolve_config_source(None)
    assert source.describe() == f"config: {config_file} (from $RUNNER_WATCHDOG_CONFIG)"


def test_system_config_is_used_when_it_exists(config_file):
    locate.SYSTEM_CONFIG.parent.mkdir()
    shutil.copyfile(config_file, locate.SYSTEM_CONFIG)
    assert resolve_config_source(None).origin == "system config"
    assert resolve_config_path(None) == locate.SYSTEM_CONFIG


def test_shipped_default_is_the_checkout_file_last():
    source = resolve_config_source(None)
    assert (source.path, source.origin) == (SHIPPED, "shipped default")
    assert shipped_config_path() == SHIPPED


def test_installed_package_finds_its_own_copy_of_the_shipped_config(tmp_path):
    """A non-editable install has no checkout around it: build the package as
    pip would lay it out and load the shipped config from there."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree)
    for package in ("exporter", "yamlsource", "rulegen"):
        shutil.copytree(ROOT / package, tree / package)
    out = tmp_path / "site"
    build = [sys.executable, "-c", "from setuptools import setup; setup()"]
    subprocess.run(
        [*build, "-q", "build_py", "--build-lib", str(out)],
        cwd=tree,
        check=True,
        capture_output=True,
    )
    probe = (
        "from exporter.config import load_config, shipped_config_path\n"
        "path = shipped_config_path()\n"
        "config = load_config(path, strict=True)\n"
        "print(path, config.metrics.port)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(out)}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert done.stdout == f"{out / 'exporter' / 'config' / 'runner.yaml'} 9477\n"


def test_environment_from_flag_then_variable_then_default(monkeypatch):
    config = load_config(SHIPPED)
    assert resolve_environment(config, None) == "ci"
    monkeypatch.setenv("RUNNER_WATCHDOG_ENV", "dev")
    assert resolve_environment(config, None) == "dev"
    assert resolve_environment(config, "prod") == "prod"


def test_unknown_environment_names_the_choices(monkeypatch):
    config = load_config(SHIPPED)
    monkeypatch.setenv("RUNNER_WATCHDOG_ENV", "staging")
    with pytest.raises(InvalidInputError) as caught:
        resolve_environment(config, None)
    assert str(caught.value) == (
        f"environment 'staging' (from $RUNNER_WATCHDOG_ENV) is not defined in "
        f"{SHIPPED}; expected one of dev, ci, prod"
    )
    assert caught.value.exit_code == 1


def test_shared_options_pass_the_resolved_file_and_announce_it(
    monkeypatch, config_file
):
    @click.command()
    @config_option
    @env_option
    def probe(config_path: Path, env_flag: str | None) -> None:
        click.echo(f"{config_path} {env_flag}")

    monkeypatch.setenv("RUNNER_WATCHDOG_CONFIG", str(config_file))
    result = CliRunner().invoke(probe, ["--env", "prod"])
    assert result.exit_code == 0
    assert result.stdout == f"{config_file} prod\n"
    assert result.stderr == f"config: {config_file} (from $RUNNER_WATCHDOG_CONFIG)\n"


def test_config_show_prints_the_allowances_of_one_environment(config_file):
    result = CliRunner().invoke(
        main, ["config", "show", "--config", str(config_file), "--env", "dev"]
    )
    assert result.exit_code == 0
    assert result.stderr == f"config: {config_file} (from --config)\n"
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "environment",
        "command_type",
        "stall_s",
        "hard_s",
        "grace_s",
        "sample_s",
        "action",
    ]
    assert lines[1].split() == ["dev", "test", "1200", "7200", "10", "5", "kill"]
    assert len(lines) == 6


def test_config_show_on_an_invalid_config_lists_problems_and_exits_1(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(SHIPPED.read_text().replace("port: 9477", "port: 0"))
    result = CliRunner().invoke(main, ["config", "show", "--config", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        f"runner-watchdog: invalid config {path}: 1 problem",
        f"  {path}:{line_of('port: 9477')}:9: metrics.port: got 0; expected a "
        "whole number from 1 to 65535",
    ]


def test_config_show_with_unknown_environment_exits_1(config_file):
    result = CliRunner().invoke(
        main, ["config", "show", "--config", str(config_file), "--env", "qa"]
    )
    assert result.exit_code == 1
    assert "environment 'qa' (from --env) is not defined" in result.stderr


def _validate(*args: str):
    return CliRunner().invoke(main, ["config", "validate", *args])


def test_validate_reads_the_resolved_config_without_a_file(monkeypatch, config_file):
    monkeypatch.setenv("RUNNER_WATCHDOG_CONFIG", str(config_file))
    result = _validate("--strict")
    assert result.exit_code == 0
    assert result.stderr == f"config: {config_file} (from $RUNNER_WATCHDOG_CONFIG)\n"


def test_validate_invalid_exits_1_with_every_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    text = SHIPPED.read_text()
    text = text.replace("port: 9477", "port: 0").replace("format: text", "format: xml")
    path.write_text(text)
    result = _validate(str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:{line_of('port: 9477')}:9: metrics.port: got 0; expected a "
        "whole number from 1 to 65535",
        f"{path}:{line_of('format: text')}:11: logging.format: got 'xml'; "
        "expected one of text, json",
        f"invalid: {path} (2 errors, 0 warnings)",
    ]


def test_validate_warnings_pass_unless_strict(tmp_path):
    path = tmp_path / "warn.yaml"
    path.write_text(
        SHIPPED.read_text().replace("  port: 9477", "  port: 9477\n  colour: 1")
    )
    relaxed, strict = _validate(str(path)), _validate("--strict", str(path))
    assert relaxed.exit_code == 0
    assert relaxed.stdout.splitlines()[-1] == f"valid: {path} (0 errors, 1 warning)"
    assert strict.exit_code == 1
    assert strict.stdout.splitlines()[-1] == f"invalid: {path} (1 error, 0 warnings)"


UNREADABLE = [
    ("missing", None, "1:1: (document): file not found"),
    ("not-yaml", "timeouts: [1, 2\n", "2:1: (document): not YAML: expected ',' or ']'"),
    (
        "two-documents",
        "a: 1\n---\nb: 2\n",
        "3:1: (document): a second YAML document starts here",
    ),
    (
        "python-tag",
        "a: !!python/name:os.system x\n",
        "1:4: (document): not loadable YAML: could not determine a constructor "
        "for the tag 'tag:yaml.org,2002:python/name:os.system'",
    ),
    ("custom-tag", "a: !vault x\n", "1:4: (document): not loadable YAML"),
    ("not-utf8", b"a: \xff\xfe\n", "1:4: (document): not UTF-8 text: byte 0xff"),
    (
        "not-utf8-later",
        "a: 1\nbé: \n".encode() + b"  x\xc3\n",
        "3:4: (document): not UTF-8 text: byte 0xc3",
    ),
]


@pytest.mark.parametrize(
    ("content", "expected"),
    [pytest.param(c, e, id=i) for i, c, e in UNREADABLE],
)
def test_validate_unreadable_or_not_yaml_exits_2(tmp_path, content, expected):
    path = tmp_path / "runner.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    result = _validate(str(path))
    assert result.exit_code == 2
    assert result.stdout.startswith(f"{path}:{expected}")
    assert result.stdout.endswith(f"unreadable: {path}\n")
    with pytest.raises(ConfigUnreadable) as caught:
        load_config(path)
    assert caught.value.exit_code == 2


def test_validate_a_directory_exits_2(tmp_path):
    result = _validate(str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory, expected a YAML file" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "",
            "empty config; expected a mapping with keys timeouts, environments, "
            "command_types, metrics, logging, security",
        ),
        (
            "- a\n- b\n",
            "got a list; expected a mapping with keys timeouts, "
            "environments, command_types, metrics, logging, runners, security",
        ),
    ],
    ids=["empty", "list"],
)
def test_config_that_is_not_a_mapping_is_invalid(tmp_path, content, message):
    path = tmp_path / "runner.yaml"
    path.write_text(content)
    with pytest.raises(ConfigInvalid) as caught:
        load_config(path)
    assert [p.message for p in caught.value.problems] == [message]
    assert caught.value.exit_code == 1
    assert _validate(str(path)).exit_code == 1


def test_public_names_all_resolve_lazily():
    import exporter.config as package

    assert sorted(package.__all__) == sorted(package._HOME_OF)
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError):
        package.no_such_name  # noqa: B018


def test_the_dataclasses_alone_do_not_load_the_validator():
    probe = "import sys, exporter.config.model; print('jsonschema' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    assert done.stdout == "False\n"
