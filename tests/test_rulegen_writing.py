"""``rulegen build`` writing its output: a build owns every directory a
build writes to, so switching the rule format leaves no rule deployed twice;
a directory it cannot write is one line naming the path and the reason
(exit 2), never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulegen import names
from rulegen.build import RULE_FORMATS, generate
from rulegen.check import alertmanager_config
from rulegen.cli import main
from rulegen.spec.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "slo.yaml"
GOLDEN_SPECS = sorted((ROOT / "tests" / "golden" / "rulegen").glob("*/spec.yaml"))

# The suite runs as root, who may write anywhere: the build runs in a child
# that drops to nobody after its imports (the interpreter may live where
# nobody cannot read, e.g. under /root; Jinja needs the codec imported).
AS_NOBODY = """
import encodings.unicode_escape
import os
import sys
from rulegen.cli import main

if os.geteuid() == 0:
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
main(sys.argv[1:], prog_name="rulegen")
"""


@pytest.fixture
def shared_tmp(shared_tmp: Path) -> Path:
    """The shared directory, holding the spec."""
    shutil.copy(SPEC, shared_tmp / "slo.yaml")
    (shared_tmp / "slo.yaml").chmod(0o644)
    return shared_tmp


def build_as_nobody(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``rulegen build ARGS`` as nobody, from a directory nobody can reach."""
    return subprocess.run(
        [sys.executable, "-c", AS_NOBODY, "build", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_out_directory_it_may_not_create_is_one_line(shared_tmp):
    locked = shared_tmp / "locked"
    locked.mkdir(mode=0o555)

    result = build_as_nobody(
        shared_tmp, str(shared_tmp / "slo.yaml"), "--out", str(locked / "o")
    )

    assert result.returncode == 2
    assert result.stderr == (
        f"rulegen: cannot create the directory {locked / 'o'}: Permission denied; "
        "the build stopped there\n"
    )
    assert result.stdout == ""


def test_a_rules_directory_it_may_not_write_is_one_line(shared_tmp):
    out = shared_tmp / "out"
    first = CliRunner().invoke(
        main, ["build", str(shared_tmp / "slo.yaml"), "--out", str(out)]
    )
    assert first.exit_code == 0, first.output
    rules = out / "prometheus" / "rules"
    rules.chmod(0o555)
    renamed = shared_tmp / "renamed.yaml"
    renamed.write_text(SPEC.read_text().replace("name: stall-ratio", "name: stalls"))
    renamed.chmod(0o644)

    result = build_as_nobody(shared_tmp, str(renamed), "--out", str(out))

    assert result.returncode == 2
    assert result.stderr == (
        f"rulegen: cannot write {rules / 'stalls.rules.yml'}: Permission denied; "
        "the build stopped there\n"
    )


def test_an_out_path_through_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a directory\n")
    out = tmp_path / "file" / "sub"

    result = CliRunner().invoke(main, ["build", str(SPEC), "--out", str(out)])

    assert result.exit_code == 2
    assert result.output == (
        f"rulegen: cannot create the directory {out / 'prometheus' / 'rules'}: "
        "Not a directory; the build stopped there\n"
    )


def build(out: Path, rule_format: str) -> None:
    arguments = ["build", str(SPEC), "--out", str(out), "--format", rule_format]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output


def files_under(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*.yml"))


def test_building_k8s_after_prometheus_removes_the_rule_files(tmp_path):
    build(tmp_path, "prometheus")
    build(tmp_path, "k8s")

    assert files_under(tmp_path / "prometheus") == ["k8s/runner-slos.yml"]


def test_building_prometheus_after_k8s_removes_the_resource(tmp_path):
    build(tmp_path, "k8s")
    build(tmp_path, "prometheus")

    assert not (tmp_path / names.K8S_DIR).exists()
    assert "rules/stall-ratio.rules.yml" in files_under(tmp_path / "prometheus")


def test_hand_written_rules_survive_a_format_switch(tmp_path):
    build(tmp_path, "prometheus")
    local = tmp_path / names.RULES_DIR / "local.rules.yml"
    local.write_text("groups: []\n", encoding="utf-8")

    build(tmp_path, "k8s")

    assert files_under(tmp_path / "prometheus") == [
        "k8s/runner-slos.yml",
        "rules/local.rules.yml",
    ]


@pytest.mark.parametrize("spec_path", GOLDEN_SPECS, ids=lambda p: p.parent.name)
@pytest.mark.parametrize("rule_format", sorted(RULE_FORMATS))
def test_every_generated_file_lies_in_a_directory_the_build_owns(
    spec_path, rule_format
):
    spec, _ = load_spec(spec_path)

    directories = {str(a.path.parent) for a in generate(spec, rule_format)}

    assert directories - set(names.OUTPUT_DIRS) == set()


def test_check_renders_the_alerts_of_a_prometheusrule(tmp_path):
    build(tmp_path, "k8s")

    assert alertmanager_config(tmp_path) == (
        "amtool: alertmanager/alertmanager.yml valid, 10 routing tests pass, "
        "3 notification templates render 7 alerts"
    )


def test_check_says_plainly_when_there_are_no_alerts_to_render(tmp_path):
    build(tmp_path, "prometheus")
    for rules in (tmp_path / names.RULES_DIR).glob("*.yml"):
        rules.write_text("groups: []\n", encoding="utf-8")

    assert alertmanager_config(tmp_path) == (
        "amtool: alertmanager/alertmanager.yml valid, 10 routing tests pass, "
        "3 notification templates render with no alerts (no alerting rule under "
        "prometheus/rules or prometheus/k8s)"
    )
