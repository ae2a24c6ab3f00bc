"""Thousands of mutated configs: each one passes or gets clean problems (or a
clean unreadable error), never a traceback; through load_config, through
validate_text and through the `config validate` command."""

from __future__ import annotations

import copy
import io
import itertools
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DataObject
from ruamel.yaml import YAML

from exporter.cli import main
from exporter.config import (
    Config,
    ConfigInvalid,
    ConfigUnreadable,
    load_config,
    validate_text,
)
from exporter.config.schema import prod_maximum
from exporter.contract import OTHER_COMMAND_TYPE
from yamlsource import Problem, errors, load_text

pytestmark = pytest.mark.slow

SHIPPED_TEXT = (
    Path(__file__).resolve().parents[1] / "config" / "runner.yaml"
).read_text()

# A small valid config: most examples start here because parsing dominates
# the cost of one example and this parses ten times faster than the shipped one.
SMALL_TEXT = """\
timeouts: {stall_seconds: 60, hard_timeout_seconds: 600, kill_grace_seconds: 5,
  sample_interval_seconds: 5}
environments:
  default: ci
  ci: {}
  prod: {scale: 1.5, timeouts: {kill_grace_seconds: 20}}
command_types:
  test: {executables: [pytest], argument_pattern: '-m pytest', stall_seconds: 120,
    action: kill}
  build: {executables: [make], hard_timeout_seconds: 1200}
metrics: {port: 9477, host: '', pushgateway_url: null}
logging: {level: info, rotation: {retention_days: 3}}
runners:
  - {name: gha, executables: [Runner.Worker]}
security:
  allowed_commands: [pytest, make, python3 -m pytest]
  blocked_patterns: ['rm -rf /', '\\| *sh', ':\\(\\)', 'of=/dev/sd']
  allow_shell: true
  shells: [sh]
"""

settings.register_profile(
    "config-fuzz",
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings.get_profile("config-fuzz")

TRICKY_STRINGS = [
    "", "no", "on", "1:30", "0755", "*", "py*", "bash", "sh", "env", "python3 -c",
    "(", "[a-", ".*", "a|", "rm -rf /", "other", "prod", "default", "ci", "kill",
    "observe", "json", "/metrics", "http://pg:9091", "::", "0.0.0.0", "[::]", "-1",
    "Bad Name", "\t", "ü", "x" * 300,
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**13),
    st.sampled_from([0, 1, 2, 5, 9, 10, 60, 1800, 1801, 14401, 86401, 65536]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(TRICKY_STRINGS),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(TRICKY_STRINGS) | st.text(max_size=8), inner, max_size=3
        ),
    ),
    max_leaves=6,
)
keys = st.one_of(
    st.sampled_from(
        ["scale", "timeouts", "stall_seconds", "action", "default", "shells",
         "executables", "argument_pattern", "name", "dev", "other", "bogus"]
    ),
    st.text(max_size=10),
)  # fmt: skip

BASES = {"small": load_text(SMALL_TEXT).data, "shipped": load_text(SHIPPED_TEXT).data}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    children = (
        value.items() if isinstance(value, dict)
        else enumerate(value) if isinstance(value, list)
        else []
    )  # fmt: skip
    for key, child in children:
        found.extend(_paths(child, (*prefix, key)))
    return found


def _container(root: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        root = root[key]
    return root


def _mutate(data: Any, draw: DataObject) -> Any:
    """One structural change: replace, delete or add a value somewhere."""
    path = draw.draw(st.sampled_from(_paths(data)), label="path")
    kind = draw.draw(st.sampled_from(["replace", "delete", "add"]), label="kind")
    if not path:
        return draw.draw(values) if kind == "replace" else data
    parent = _container(data, path[:-1])
    target = parent[path[-1]]
    if kind == "replace":
        parent[path[-1]] = draw.draw(values, label="value")
    elif kind == "delete":
        del parent[path[-1]]
    elif isinstance(target, dict):
        target[draw.draw(keys, label="key")] = draw.draw(values, label="value")
    elif isinstance(target, list):
        target.append(draw.draw(values, label="value"))
    return data


_DUMPER = YAML(typ="safe", pure=True)


def _dump(data: Any) -> str:
    stream = io.StringIO()
    _DUMPER.dump(data, stream)
    return stream.getvalue()


TOKENS = [
    "no", "on", "Off", "1:30", "0755", "0o17", "[", "]", "{", "}", "- x", "&a", "*a",
    "!!str", "!tag", "|", ">", "'", '"', "#", "~", "null", ".inf", ".nan", "0x10",
    "1e3", "<<: *a", "? x", ": ", "\t", "---", "...", "%YAML 1.1", "1_000", "-",
]  # fmt: skip


def _edit_text(text: str, draw: DataObject) -> str:
    """One textual change to a line: where the YAML traps and syntax errors are."""
    lines = text.splitlines()
    index = draw.draw(st.integers(0, len(lines) - 1), label="line")
    line = lines[index]
    kind = draw.draw(
        st.sampled_from(["value", "insert", "delete", "duplicate", "indent", "dedent"])
    )
    if kind == "value" and ": " in line:
        head = line.split(": ", 1)[0]
        lines[index] = f"{head}: {draw.draw(st.sampled_from(TOKENS), label='token')}"
    elif kind == "insert":
        at = draw.draw(st.integers(0, len(line)), label="column")
        token = draw.draw(st.sampled_from(TOKENS) | st.text(max_size=3), label="token")
        lines[index] = line[:at] + token + line[at:]
    elif kind == "delete":
        del lines[index]
    elif kind == "duplicate":
        lines.insert(index, line)
    elif kind == "indent":
        lines[index] = "  " + line
    else:
        lines[index] = line[2:] if line.startswith("  ") else line
    return "\n".join(lines) + "\n"


def _mutated_structure(draw: DataObject) -> str:
    base = draw.draw(st.sampled_from(["small", "small", "small", "shipped"]))
    data = copy.deepcopy(BASES[base])
    for _ in range(draw.draw(st.integers(1, 4), label="changes")):
        data = _mutate(data, draw)
    return _dump(data)


def _mutated_text(draw: DataObject) -> str:
    base = draw.draw(
        st.sampled_from([SMALL_TEXT, SMALL_TEXT, SMALL_TEXT, SHIPPED_TEXT])
    )
    for _ in range(draw.draw(st.integers(1, 3), label="edits")):
        base = _edit_text(base, draw)
    return base


def _check_problems(problems: list[Problem], config: Config | None) -> None:
    assert problems or config is not None
    assert (config is None) == bool(errors(problems))
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1
        assert problem.path and problem.message
        assert "Traceback" not in problem.message
    if config is not None:  # the checks agree with Config.allowance
        for kind, env in itertools.product(
            [*config.command_types, OTHER_COMMAND_TYPE], config.environments
        ):
            allowance = config.allowance(kind, env)
            stall, hard = allowance.stall_seconds, allowance.hard_timeout_seconds
            assert 2 * allowance.sample_interval_seconds <= stall <= hard
            if env == "prod":
                assert stall <= prod_maximum("stall_seconds")
                assert hard <= prod_maximum("hard_timeout_seconds")


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("config-fuzz")


@settings(FUZZ, max_examples=1000)
@given(draw=st.data(), strict=st.booleans())
def test_structural_mutants_load_or_fail_cleanly(fuzz_dir, draw, strict):
    path = fuzz_dir / "structural.yaml"
    path.write_text(_mutated_structure(draw))
    try:
        config = load_config(path, strict=strict)
    except ConfigInvalid as exc:
        assert exc.exit_code == 1
        _check_problems(exc.problems, None)
    except ConfigUnreadable as exc:
        assert exc.exit_code == 2 and exc.problems
    else:
        _check_problems([], config)


@settings(FUZZ, max_examples=900)
@given(draw=st.data(), strict=st.booleans())
def test_textual_mutants_validate_or_fail_cleanly(draw, strict):
    text = _mutated_text(draw)
    try:
        config, problems = validate_text(text, strict=strict)
    except ConfigUnreadable as exc:
        assert exc.problems
        return
    _check_problems(problems, config)


@settings(FUZZ, max_examples=400)
@given(draw=st.data(), structural=st.booleans())
def test_config_validate_command_never_shows_a_traceback(fuzz_dir, draw, structural):
    path = fuzz_dir / "command.yaml"
    path.write_text(_mutated_structure(draw) if structural else _mutated_text(draw))
    result = CliRunner().invoke(main, ["config", "validate", "--strict", str(path)])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    last = result.stdout.splitlines()[-1]
    verdict = {0: "valid --strict: ", 1: "invalid: ", 2: "unreadable: "}
    assert last.startswith(verdict[result.exit_code])
