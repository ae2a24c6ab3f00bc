"""Golden files: each spec under tests/golden/rulegen/<case>/ beside the
artifacts it must generate (both rule formats) and the warnings it must
print. ``pytest --update-golden`` (or ``make golden``) rewrites them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulegen import artifacts
from rulegen.build import generate
from rulegen.cli import main
from rulegen.spec.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "rulegen"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "spec.yaml").is_file())
# What `make rules` writes from slo.yaml.
COMMITTED = ("prometheus", "alertmanager", "dashboards", "docs/runbooks")


def tree(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` by relative path, with its text."""
    return {
        str(path.relative_to(directory)): path.read_text(encoding="utf-8")
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def build(out: Path) -> str:
    """Both rule formats of ./spec.yaml, each built alone (a build removes
    the other format's files), merged under ``out``; the warnings printed."""
    printed, built = [], {}
    for rule_format in ("prometheus", "k8s"):
        alone = out.parent / f"{out.name}-{rule_format}"
        arguments = ["build", "spec.yaml", "--out", str(alone), "--format", rule_format]
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 0, result.output
        printed.append(result.stderr)
        files = tree(alone)
        shared = files.keys() & built.keys()
        assert {p: files[p] for p in shared} == {p: built[p] for p in shared}
        built |= files
        shutil.copytree(alone, out, dirs_exist_ok=True)
    assert printed[0] == printed[1]
    return printed[0]


@pytest.mark.parametrize("case", CASES)
def test_generated_files_match_the_golden_files(
    case, tmp_path, monkeypatch, update_golden
):
    case_dir = GOLDEN / case
    monkeypatch.chdir(case_dir)
    out = tmp_path / "out"
    warnings = build(out)

    expected_dir = case_dir / "expected"
    warnings_file = case_dir / "warnings.txt"
    if update_golden:
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(out, expected_dir)
        warnings_file.write_text(warnings, encoding="utf-8")
        return
    assert tree(out) == tree(expected_dir)
    assert warnings == warnings_file.read_text(encoding="utf-8")


def test_committed_artifacts_equal_a_fresh_build_of_slo_yaml(tmp_path):
    spec, _ = load_spec(ROOT / "slo.yaml")
    artifacts.write(tmp_path, generate(spec))
    for directory in COMMITTED:
        assert tree(ROOT / directory) == tree(tmp_path / directory), (
            f"{directory}/ is stale: run `make rules` and commit the result"
        )


def test_builds_are_byte_stable(tmp_path):
    spec, _ = load_spec(ROOT / "slo.yaml")
    first = generate(spec) + generate(spec, "k8s")
    again, _ = load_spec(ROOT / "slo.yaml")
    assert first == generate(again) + generate(again, "k8s")
    assert all(a.text.endswith("\n") and not a.text.endswith("\n\n") for a in first)


def test_a_build_removes_generated_files_of_slos_that_are_gone(tmp_path):
    spec, _ = load_spec(ROOT / "slo.yaml")
    artifacts.write(tmp_path, generate(spec))
    rules = tmp_path / "prometheus" / "rules"
    stale = rules / "renamed.rules.yml"
    stale.write_text((rules / "stall-ratio.rules.yml").read_text(), encoding="utf-8")
    hand_written = rules / "local.rules.yml"
    hand_written.write_text("groups: []\n", encoding="utf-8")

    changed = artifacts.write(tmp_path, generate(spec))

    assert changed == [stale]
    assert not stale.exists()
    assert hand_written.exists()
