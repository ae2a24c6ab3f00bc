"""``rulegen build`` writing its output: a directory it cannot write is one
line naming the path and the reason (exit 2), never a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from rulegen.cli import main

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "slo.yaml"

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
def shared_tmp() -> Iterator[Path]:
    """A temporary directory nobody can reach (pytest's is root's)."""
    base = Path(tempfile.mkdtemp(prefix="rulegen-write-"))
    base.chmod(0o755)
    shutil.copy(SPEC, base / "slo.yaml")
    (base / "slo.yaml").chmod(0o644)
    try:
        yield base
    finally:
        shutil.rmtree(base)


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
