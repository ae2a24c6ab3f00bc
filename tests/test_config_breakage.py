"""Configs a careless or hostile author could write, found by trying to break
the validator: each must get one clean problem with its position and exit
code, never a traceback, and never pass only to fail when the wrapper runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.config import validate_text
from exporter.config.backtracking import EXPLANATION, backtracking_risk

SHIPPED = Path(__file__).resolve().parents[1] / "config" / "runner.yaml"
BASE = SHIPPED.read_text()


def edited(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def problems_of(text: str, strict: bool = False) -> list[tuple[str, str, str]]:
    _, problems = validate_text(text, strict=strict, name="c.yaml")
    return [(p.path, p.severity, p.message) for p in problems]


def validate(path: Path, *flags: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["config", "validate", *flags, str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output.splitlines()


@pytest.mark.parametrize(
    ("key", "old"),
    [
        pytest.param(
            "logging.evidence_dir",
            "evidence_dir: evidence/runner",
            id="evidence-dir",
        ),
        pytest.param(
            "metrics.web_config_file",
            "web_config_file: null #",
            id="web-config-file",
        ),
    ],
)
def test_a_nul_byte_in_a_path_is_refused(key: str, old: str) -> None:
    name = old.split(":")[0]
    text = edited(old, f'{name}: "/var/lib/a\\0b" #')

    found = problems_of(text)

    expected = "a directory path" if name == "evidence_dir" else "a file path, or null"
    assert found == [(key, "error", f"got '/var/lib/a\\x00b'; expected {expected}")]


def test_a_nul_evidence_dir_stops_the_wrapper_with_125_not_a_traceback(
    tmp_path: Path,
) -> None:
    config = tmp_path / "runner.yaml"
    config.write_text(edited("evidence_dir: evidence/runner", 'evidence_dir: "a\\0b"'))

    result = CliRunner().invoke(main, ["run", "--config", str(config), "--", "true"])

    assert result.exit_code == 125
    assert "logging.evidence_dir: got 'a\\x00b'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "source",
    [pytest.param("/dev/zero", id="endless"), pytest.param("big", id="two-mib")],
)
def test_an_oversized_file_is_unreadable_not_a_memory_error(
    tmp_path: Path, source: str
) -> None:
    path = Path(source)
    if source == "big":
        path = tmp_path / "big.yaml"
        path.write_text(BASE + "#" * (2 * 1024 * 1024) + "\n")

    code, lines = validate(path)

    assert code == 2
    assert lines == [
        f"config: {path} (from the command line)",
        f"{path}:1:1: (document): larger than 256 KiB; expected a hand-written file",
        f"unreadable: {path}",
    ]


def test_a_control_character_is_named_with_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "ctl.yaml"
    path.write_bytes(b"timeouts:\n  stall\x01_seconds: 5\n")

    code, lines = validate(path)

    assert code == 2
    assert lines[1] == (
        f"{path}:2:8: (document): not YAML: character #x0001: "
        "special characters are not allowed"
    )


def test_a_key_left_without_a_value_is_reported_on_its_own_line() -> None:
    text = edited("  stall_seconds: 300 #", "  stall_seconds: #")

    _, problems = validate_text(text, name="c.yaml")

    assert [str(p) for p in problems] == [
        "c.yaml:21:3: timeouts.stall_seconds: got null; expected a whole number "
        "from 2 to 86400"
    ]


def test_a_billion_laughs_config_is_refused_at_its_alias(tmp_path: Path) -> None:
    # Nine levels would expand to 387 million values: reload reads it too.
    lines = ["a: &a [" + ", ".join(["x"] * 9) + "]"]
    lines += [
        f"{name}: &{name} [" + ", ".join([f"*{before}"] * 9) + "]"
        for before, name in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")

    code, lines = validate(path)

    assert code == 2
    assert lines[1] == (
        f"{path}:5:8: e[0]: alias *d copies 7381 values, bringing the values "
        "copied by aliases to 15670, over the limit of 10000; accepted: aliases "
        "that copy at most 10000 values in all (write the values out instead)"
    )


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://push.example:99999", id="port-too-high"),
        pytest.param("http://push.example:0", id="port-zero"),
        pytest.param("http://push.example:http", id="port-not-a-number"),
        pytest.param("http://:9091", id="no-host"),
        pytest.param("http://[::1", id="broken-ipv6"),
        pytest.param("http://bad_host!:9091", id="bad-host"),
    ],
)
def test_a_pushgateway_url_that_cannot_connect_is_refused(url: str) -> None:
    text = edited("pushgateway_url: null", f'pushgateway_url: "{url}"')

    assert problems_of(text) == [
        (
            "metrics.pushgateway_url",
            "error",
            f"got {url!r}; expected an http:// or https:// URL with a host name "
            "or address, and a port from 1 to 65535",
        )
    ]


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9091", "https://push.example.com/base", "http://[::1]:9091"],
)
def test_a_good_pushgateway_url_passes(url: str) -> None:
    text = edited("pushgateway_url: null", f'pushgateway_url: "{url}"')

    assert problems_of(text, strict=True) == []


CATASTROPHIC = [
    pytest.param(r"(a+)+$", id="nested-plus"),
    pytest.param(r"(x+x+)+y", id="adjacent-in-loop"),
    pytest.param(r"(\w+\s?)*$", id="optional-separator"),
    pytest.param(r"(a*)*b", id="nested-star"),
    pytest.param(r"((ab)*)*c", id="nested-group"),
    pytest.param(r"(a|aa)+$", id="overlapping-alternatives"),
    pytest.param(r"(?=(a+)+b)", id="inside-lookahead"),
    pytest.param(r"(.*)*x", id="dot-star-in-loop"),
]

LINEAR = [
    pytest.param(r"(-\S+\s+)*", id="options-then-space"),
    pytest.param(r"(\d+\.)*\d+", id="dotted-number"),
    pytest.param(r"(?:\s*,\s*\w+)*", id="comma-list"),
    pytest.param(r"([^;]*;)*", id="separated"),
    pytest.param(r"(ab|ac)*", id="alternatives-start-apart"),
    pytest.param(r"(?>a+)+b", id="atomic-group"),
    pytest.param(r"(a++)+b", id="possessive"),
    pytest.param(r"x*x*x*y", id="no-loop-around"),
    pytest.param(
        r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
        id="host-name",
    ),
]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_are_recognised(pattern: str) -> None:
    assert backtracking_risk(pattern) == EXPLANATION


@pytest.mark.parametrize("pattern", LINEAR)
def test_patterns_that_match_one_way_are_not_flagged(pattern: str) -> None:
    assert backtracking_risk(pattern) is None


def test_huge_patterns_are_judged_within_a_work_bound() -> None:
    # Quadratic pairs of states: beyond the bound the answer is "unknown".
    assert backtracking_risk(r"\s*" * 200) is None
    assert backtracking_risk("|".join(f"word{i}" for i in range(2000))) is None


def test_every_shipped_pattern_is_linear() -> None:
    patterns = re.findall(r"^\s*(?:- |argument_pattern: )'(.*)'$", BASE, re.M)

    assert len(patterns) >= 10
    assert [p for p in patterns if backtracking_risk(p.replace("''", "'"))] == []


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        pytest.param(
            "  blocked_patterns:\n",
            "  blocked_patterns:\n    - '(x+x+)+y'\n",
            "security.blocked_patterns[0]",
            id="blocked-pattern",
        ),
        pytest.param(
            "argument_pattern: '(^|\\s)make deploy(\\s|$)'",
            "argument_pattern: '(a+)+$'",
            "command_types.deploy.argument_pattern",
            id="argument-pattern",
        ),
        pytest.param(
            "  - name: buildkite\n    executables: [buildkite-agent]",
            "  - name: buildkite\n    argument_pattern: '^(\\w+\\s?)+$'",
            "runners[3].argument_pattern",
            id="runner-pattern",
        ),
    ],
)
def test_catastrophic_patterns_warn_and_fail_strict(
    old: str, new: str, path: str
) -> None:
    text = edited(old, new)
    pattern = re.search(r"'(.*)'", new)
    assert pattern is not None
    message = (
        f"pattern {pattern.group(1)!r} can backtrack catastrophically: "
        f"{EXPLANATION}; expected loops whose parts cannot start alike, or a "
        "possessive x++ or atomic (?>...) group"
    )

    assert problems_of(text) == [(path, "warning", message)]
    assert problems_of(text, strict=True) == [
        (path, "error", f"{message}; refused by --strict")
    ]


def test_a_catastrophic_pattern_still_gets_the_must_block_check() -> None:
    # A warning about one pattern must not hide the missing families.
    text = re.sub(
        r"  blocked_patterns:\n(    (#|-).*\n)+",
        "  blocked_patterns:\n    - '(x+x+)+y'\n",
        BASE,
    )

    found = problems_of(text)

    families = "recursive deletion of /", "a download piped into a shell"
    families += "a fork bomb", "a write to a raw disk"
    assert sorted((path, severity) for path, severity, _ in found) == [
        *[("security.blocked_patterns", "warning")] * 4,
        ("security.blocked_patterns[0]", "warning"),
    ]
    assert sorted(
        message.split(",")[0]
        for path, _, message in found
        if path == "security.blocked_patterns"
    ) == sorted(f"no pattern blocks {family}" for family in families)
