"""promtool itself, run for real: the committed rules load and their
generated unit tests pass; so do the golden outputs; and `rulegen check`
fails with promtool's own message when they do not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulegen.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "rulegen"


def check(directory: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", str(directory)])
    return result.exit_code, result.output


def test_promtool_is_installed():
    assert shutil.which("promtool"), "install the Debian package prometheus"


@pytest.mark.slow
def test_committed_rules_load_and_their_unit_tests_pass():
    code, output = check(ROOT)
    assert (code, output.splitlines()[0]) == (
        0,
        "rulegen: promtool: 5 rule files and 0 PrometheusRule resources valid, "
        "5 test files pass",
    )


@pytest.mark.parametrize(
    "case", sorted(p.name for p in GOLDEN.iterdir() if (p / "expected").is_dir())
)
def test_golden_outputs_load_and_their_unit_tests_pass(case):
    code, output = check(GOLDEN / case / "expected")
    assert code == 0, output
    assert "PrometheusRule resources valid" in output


@pytest.fixture
def stall_only(tmp_path: Path) -> Path:
    """A copy of the stall-ratio SLO's rules and tests alone (fast to test)."""
    for part in ("rules/stall-ratio.rules.yml", "tests/stall-ratio.test.yml"):
        target = tmp_path / "prometheus" / part
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "prometheus" / part, target)
    return tmp_path


def test_a_failing_unit_test_fails_the_check_with_promtools_message(stall_only):
    rules = stall_only / "prometheus/rules/stall-ratio.rules.yml"
    text = rules.read_text(encoding="utf-8")
    assert text.count("> 0.2\n") == 1
    rules.write_text(text.replace("> 0.2\n", "> 0.3\n"), encoding="utf-8")

    code, output = check(stall_only)

    assert code == 1
    assert output.startswith(
        "rulegen: promtool test rules "
        f"{stall_only}/prometheus/tests/stall-ratio.test.yml failed:\n"
    )
    assert "FAILED:" in output
    assert "alertname: RunnerStallFastBurn" in output


def test_a_rule_that_does_not_load_fails_the_check(stall_only):
    rules = stall_only / "prometheus/rules/stall-ratio.rules.yml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("> 0.2\n", "> \n", 1), encoding="utf-8")

    code, output = check(stall_only)

    assert code == 1
    assert output.startswith("rulegen: promtool check rules ")
    assert "parse error" in output


def test_nothing_to_check_says_what_to_run(tmp_path):
    code, output = check(tmp_path)
    assert code == 1
    assert output == (
        f"rulegen: no rule files under {tmp_path}/prometheus/rules; "
        "run `rulegen build SPEC` first\n"
    )


def test_a_missing_promtool_names_the_package(stall_only, monkeypatch):
    monkeypatch.setenv("PATH", str(stall_only))
    code, output = check(stall_only)
    assert (code, output) == (
        2,
        "rulegen: promtool not found on PATH; install the Debian package prometheus\n",
    )
