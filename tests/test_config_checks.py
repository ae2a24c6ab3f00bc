"""Each check of the config validator, on a small config with one mistake:
exact line, column, key path, severity and message."""

from __future__ import annotations

import pytest

from exporter.config import validate_text

# A small valid config; the line numbers below refer to it.
MINIMAL = """\
timeouts:
  stall_seconds: 60
  hard_timeout_seconds: 600
  kill_grace_seconds: 5
  sample_interval_seconds: 5
environments:
  default: ci
  ci: {}
  prod:
    scale: 1.0
command_types:
  test:
    executables: [pytest]
    stall_seconds: 120
    action: kill
metrics:
  port: 9477
logging:
  level: info
security:
  allowed_commands: [pytest, make]
  blocked_patterns:
    - 'rm -rf /'
    - '\\| *sh'
    - ':\\(\\)'
    - 'of=/dev/sd'
"""


def edited(*changes: tuple[str, str]) -> str:
    text = MINIMAL
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def found(text: str, strict: bool = False) -> list[tuple[int, int, str, str, str]]:
    _, problems = validate_text(text, strict=strict, name="c.yaml")
    return [(p.line, p.column, p.path, p.severity, p.message) for p in problems]


def test_minimal_config_is_valid_even_when_strict():
    config, problems = validate_text(MINIMAL, strict=True)
    assert problems == []
    assert config is not None
    assert config.allowance("test", "prod").stall_seconds == 120
    assert config.allowance("other", "ci").stall_seconds == 60


# (id, changes, line, column, path, severity, message)
CASES = [
    (
        "yaml11-boolean",
        [("level: info", "level: no")],
        19,
        10,
        "logging.level",
        "error",
        "ambiguous value 'no': YAML 1.1 reads it as a boolean; write true or "
        "false, or quote it as a string",
    ),
    (
        "yaml11-sexagesimal",
        [("stall_seconds: 60", "stall_seconds: 1:30")],
        2,
        18,
        "timeouts.stall_seconds",
        "error",
        "ambiguous value '1:30': YAML 1.1 reads it as a base-60 number; quote "
        "it, or write plain seconds",
    ),
    (
        "yaml11-octal",
        [("port: 9477", "port: 09477")],
        17,
        9,
        "metrics.port",
        "error",
        "ambiguous value '09477': a leading zero reads as octal in YAML 1.1; "
        "write the number without leading zeros, or quote it",
    ),
    (
        "duplicate-key",
        [("port: 9477\n", "port: 9477\n  port: 9478\n")],
        18,
        3,
        "metrics.port",
        "error",
        "duplicate key 'port'; first defined at line 17, column 3; each key may "
        "appear once",
    ),
    (
        "missing-section",
        [("logging:\n  level: info\n", "")],
        1,
        1,
        "logging",
        "error",
        "missing required key 'logging'; expected a mapping with keys level, "
        "format, evidence_dir, rotation",
    ),
    (
        "missing-timeout",
        [("  kill_grace_seconds: 5\n", "")],
        2,
        3,
        "timeouts.kill_grace_seconds",
        "error",
        "missing required key 'kill_grace_seconds'; expected a whole number "
        "from 1 to 300",
    ),
    (
        "float-seconds",
        [("kill_grace_seconds: 5", "kill_grace_seconds: 5.0")],
        4,
        23,
        "timeouts.kill_grace_seconds",
        "error",
        "got 5.0; expected a whole number from 1 to 300",
    ),
    (
        "boolean-seconds",
        [("kill_grace_seconds: 5", "kill_grace_seconds: true")],
        4,
        23,
        "timeouts.kill_grace_seconds",
        "error",
        "got true; expected a whole number from 1 to 300",
    ),
    (
        "negative-seconds",
        [("hard_timeout_seconds: 600", "hard_timeout_seconds: -600")],
        3,
        25,
        "timeouts.hard_timeout_seconds",
        "error",
        "got -600; expected a whole number from 1 to 604800",
    ),
    (
        "port-out-of-range",
        [("port: 9477", "port: 70000")],
        17,
        9,
        "metrics.port",
        "error",
        "got 70000; expected a whole number from 1 to 65535",
    ),
    (
        "action-enum",
        [("action: kill", "action: skip")],
        15,
        13,
        "command_types.test.action",
        "error",
        "got 'skip'; expected one of observe, kill",
    ),
    (
        "scale-out-of-range",
        [("scale: 1.0", "scale: 0")],
        10,
        12,
        "environments.prod.scale",
        "error",
        "got 0; expected a number greater than 0 and at most 10",
    ),
    (
        "scale-nan",
        [("scale: 1.0", "scale: .nan")],
        10,
        12,
        "environments.prod.scale",
        "error",
        "got .nan; expected a number greater than 0 and at most 10",
    ),
    (
        "environment-name",
        [("  ci: {}\n", "  ci: {}\n  Staging: {}\n")],
        9,
        3,
        "environments.Staging",
        "error",
        "name 'Staging' is not accepted; expected a lower-case name of at most "
        "32 letters, digits, _ and -",
    ),
    (
        "default-environment-undefined",
        [("default: ci", "default: staging")],
        7,
        12,
        "environments.default",
        "error",
        "got 'staging'; expected one of the environments defined here: ci, prod",
    ),
    (
        "no-environments",
        [("  ci: {}\n  prod:\n    scale: 1.0\n", "")],
        7,
        3,
        "environments",
        "error",
        "nothing defined; expected at least one environment besides default",
    ),
    (
        "reserved-type-name",
        [("  test:\n", "  other:\n")],
        12,
        3,
        "command_types.other",
        "error",
        "name 'other' is not accepted; expected a lower-case name of at most 32 "
        "letters, digits and _, other than the reserved `other`",
    ),
    (
        "type-without-matcher",
        [("    executables: [pytest]\n", "")],
        13,
        5,
        "command_types.test",
        "error",
        "needs at least one of the keys: executables, argument_pattern",
    ),
    (
        "type-pattern-does-not-compile",
        [("executables: [pytest]", "argument_pattern: '(pytest'")],
        13,
        23,
        "command_types.test.argument_pattern",
        "error",
        "pattern '(pytest' does not compile: missing ), unterminated subpattern "
        "at position 0; expected a Python regular expression",
    ),
    (
        "type-pattern-matches-everything",
        [("executables: [pytest]", "argument_pattern: '.*'")],
        13,
        23,
        "command_types.test.argument_pattern",
        "warning",
        "pattern '.*' matches the empty string, so it matches every process; "
        "expected a pattern that needs some text",
    ),
    (
        "executable-with-directory",
        [("executables: [pytest]", "executables: [/usr/bin/pytest]")],
        13,
        19,
        "command_types.test.executables[0]",
        "error",
        "got '/usr/bin/pytest'; expected an executable name without a directory",
    ),
    (
        "executable-listed-twice",
        [("executables: [pytest]", "executables: [pytest, pytest]")],
        13,
        27,
        "command_types.test.executables[1]",
        "error",
        "duplicate entry 'pytest'; first at index 0; each entry may appear once",
    ),
    (
        "executable-in-two-types",
        [
            (
                "    action: kill\n",
                "    action: kill\n  unit:\n    executables: [pytest]\n",
            )
        ],
        17,
        19,
        "command_types.unit.executables[0]",
        "warning",
        "executable 'pytest' is also listed under command type 'test', which "
        "comes first and wins; expected each executable under one type",
    ),
    (
        "stall-shorter-than-two-samples",
        [("stall_seconds: 60", "stall_seconds: 9")],
        2,
        18,
        "timeouts.stall_seconds",
        "error",
        "stall allowance shorter than two sample intervals (9 s < 2 x 5 s); "
        "expected a stall allowance of at least 10 s",
    ),
    (
        "type-stall-longer-than-hard",
        [("stall_seconds: 120", "stall_seconds: 700")],
        14,
        20,
        "command_types.test.stall_seconds",
        "error",
        "command type 'test': stall allowance longer than the hard timeout, so "
        "it can never fire (700 s > 600 s); expected a stall allowance no longer "
        "than the hard timeout",
    ),
    (
        "environment-override-below-stall",
        [("ci: {}", "ci: {timeouts: {hard_timeout_seconds: 100}}")],
        8,
        41,
        "environments.ci.timeouts.hard_timeout_seconds",
        "error",
        "in environment 'ci', command type test (120 s > 100 s): stall allowance "
        "longer than the hard timeout, so it can never fire; expected a stall "
        "allowance no longer than the hard timeout",
    ),
    (
        "environment-sample-override",
        [("ci: {}", "ci: {timeouts: {sample_interval_seconds: 40}}")],
        8,
        44,
        "environments.ci.timeouts.sample_interval_seconds",
        "error",
        "in environment 'ci', command type other (60 s < 2 x 40 s): stall "
        "allowance shorter than two sample intervals; expected a stall allowance "
        "of at least 80 s",
    ),
    (
        "prod-scale-too-loose",
        [("scale: 1.0", "scale: 4.0"), ("stall_seconds: 120", "stall_seconds: 500")],
        10,
        12,
        "environments.prod.scale",
        "error",
        "in environment 'prod', command type test (2000 s > 1800 s): stall "
        "allowance looser than prod allows; expected at most 1800 s in prod",
    ),
    (
        "prod-type-too-loose",
        [
            (
                "stall_seconds: 120",
                "stall_seconds: 120\n    hard_timeout_seconds: 20000",
            ),
        ],
        15,
        27,
        "command_types.test.hard_timeout_seconds",
        "error",
        "in environment 'prod', command type test (20000 s > 14400 s): hard "
        "timeout looser than prod allows; expected at most 14400 s in prod",
    ),
    (
        "listen-address",
        [("port: 9477", "port: 9477\n  listen_address: '[::]'")],
        18,
        19,
        "metrics.listen_address",
        "error",
        "got '[::]'; expected an IPv4 or IPv6 address without brackets (0.0.0.0, "
        "::, 127.0.0.1) or a host name",
    ),
    (
        "pushgateway-url",
        [("port: 9477", "port: 9477\n  pushgateway_url: pushgateway:9091")],
        18,
        20,
        "metrics.pushgateway_url",
        "error",
        "got 'pushgateway:9091'; expected an http:// or https:// URL without "
        "query or fragment, or null",
    ),
    (
        "unknown-key",
        [("port: 9477", "port: 9477\n  prot: 9478")],
        18,
        3,
        "metrics.prot",
        "warning",
        "unknown key 'prot'; accepted here: listen_address, port, path, "
        "pushgateway_url, service, host, web_config_file (did you mean 'port'?)",
    ),
    (
        "rotation-total-below-file",
        [("level: info", "rotation: {max_total_bytes: 2097152}")],
        19,
        31,
        "logging.rotation.max_total_bytes",
        "error",
        "total 2097152 bytes is less than one file (52428800 bytes); expected "
        "max_total_bytes of at least max_file_bytes",
    ),
    (
        "empty-allowlist",
        [("allowed_commands: [pytest, make]", "allowed_commands: []")],
        21,
        21,
        "security.allowed_commands",
        "error",
        "empty list; expected a list of at least 1 entry, each a command name or "
        "absolute path, optionally followed by leading arguments, separated by "
        "single spaces",
    ),
    (
        "wildcard",
        [("[pytest, make]", "[pytest, 'py*']")],
        21,
        30,
        "security.allowed_commands[1]",
        "warning",
        "risky entry 'py*': a wildcard allows commands nobody listed",
    ),
    (
        "bare-shell",
        [("[pytest, make]", "[pytest, bash]")],
        21,
        30,
        "security.allowed_commands[1]",
        "warning",
        "risky entry 'bash': 'bash' is a shell, so it would run any script; list "
        "it under security.shells with allow_shell: true instead",
    ),
    (
        "interpreter-inline-code",
        [("[pytest, make]", "[pytest, python3.11 -c]")],
        21,
        30,
        "security.allowed_commands[1]",
        "warning",
        "risky entry 'python3.11 -c': python3.11 -c runs inline code, which "
        "nobody reviewed",
    ),
    (
        "launcher",
        [("[pytest, make]", "[pytest, /usr/bin/env]")],
        21,
        30,
        "security.allowed_commands[1]",
        "warning",
        "risky entry '/usr/bin/env': 'env' runs other commands, which the "
        "allowlist would not see",
    ),
    (
        "blocked-pattern-does-not-compile",
        [("'of=/dev/sd'", "'of=/dev/sd[a-'")],
        26,
        7,
        "security.blocked_patterns[3]",
        "error",
        "pattern 'of=/dev/sd[a-' does not compile: unterminated character set at "
        "position 10; expected a Python regular expression",
    ),
    (
        "blocked-pattern-matches-everything",
        [("'of=/dev/sd'", "'of=/dev/sd|x?'")],
        26,
        7,
        "security.blocked_patterns[3]",
        "error",
        "pattern 'of=/dev/sd|x?' matches the empty string, so it would block "
        "every command; expected a pattern that needs some text",
    ),
    (
        "raw-disk-writes-not-blocked",
        [("'of=/dev/sd'", "'of=/dev/hd'")],
        23,
        5,
        "security.blocked_patterns",
        "warning",
        "no pattern blocks a write to a raw disk, such as 'dd if=/dev/zero "
        "of=/dev/sda bs=1M'; expected the shipped patterns of config/runner.yaml, "
        "or stricter ones",
    ),
    (
        "allow-shell-without-shells",
        [("  blocked_patterns:", "  allow_shell: true\n  blocked_patterns:")],
        22,
        16,
        "security.allow_shell",
        "error",
        "allow_shell is true but security.shells lists no shell; expected shells "
        "such as [sh, bash], or allow_shell: false",
    ),
    (
        "shells-without-allow-shell",
        [("  blocked_patterns:", "  shells: [sh]\n  blocked_patterns:")],
        22,
        11,
        "security.shells",
        "warning",
        "shells are listed but allow_shell is false, so none may run; expected "
        "allow_shell: true, or no shells",
    ),
    (
        "shells-lists-a-non-shell",
        [
            (
                "  blocked_patterns:",
                "  allow_shell: true\n  shells: [sh, python3]\n  blocked_patterns:",
            )
        ],
        23,
        16,
        "security.shells[1]",
        "warning",
        "'python3' is not a shell; expected one of ash, bash, busybox, csh, dash, "
        "fish, ksh, mksh, powershell, pwsh, rbash, sh, tcsh, zsh (list other "
        "commands under allowed_commands)",
    ),
    (
        "non-string-key",
        [("  port: 9477", "  port: 9477\n  1: x")],
        18,
        3,
        "metrics.1",
        "error",
        "key 1 is not a name; expected a string key (quote it)",
    ),
]


@pytest.mark.parametrize(
    ("changes", "line", "column", "path", "severity", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_one_mistake_is_reported_once_where_it_stands(
    changes, line, column, path, severity, message
):
    assert found(edited(*changes)) == [(line, column, path, severity, message)]


@pytest.mark.parametrize(
    ("changes", "line", "column", "path", "severity", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES if case[5] == "warning"],
)
def test_strict_refuses_every_warning(changes, line, column, path, severity, message):
    config, problems = validate_text(edited(*changes), strict=True)
    assert config is None
    assert [(p.line, p.column, p.path, p.severity) for p in problems] == [
        (line, column, path, "error")
    ]
    assert problems[0].message == f"{message}; refused by --strict"


def test_warnings_alone_leave_the_config_usable():
    config, problems = validate_text(edited(("[pytest, make]", "[pytest, bash]")))
    assert config is not None
    assert [p.severity for p in problems] == ["warning"]


def test_every_problem_of_a_run_is_reported_in_file_order():
    text = edited(
        ("stall_seconds: 60", "stall_seconds: 1:30"),
        ("action: kill", "action: skip"),
        ("port: 9477", "port: 0"),
        ("[pytest, make]", "[pytest, sh]"),
    )
    assert [(p.line, p.path, p.severity) for p in found_problems(text)] == [
        (2, "timeouts.stall_seconds", "error"),
        (15, "command_types.test.action", "error"),
        (17, "metrics.port", "error"),
        (21, "security.allowed_commands[1]", "warning"),
    ]


def test_one_inherited_mistake_is_reported_once_not_per_type_and_environment():
    text = edited(
        ("stall_seconds: 60", "stall_seconds: 900"),
        ("    action: kill\n", "    action: kill\n  lint:\n    executables: [ruff]\n"),
    )
    assert [(p.line, p.path) for p in found_problems(text)] == [
        (2, "timeouts.stall_seconds")
    ]


def test_environment_failures_for_several_types_share_one_problem():
    text = edited(
        ("ci: {}", "ci: {timeouts: {hard_timeout_seconds: 50}}"),
    )
    problems = found_problems(text)
    assert [p.path for p in problems] == [
        "environments.ci.timeouts.hard_timeout_seconds"
    ]
    assert "command types test (120 s > 50 s), other (60 s > 50 s)" in (
        problems[0].message
    )


def found_problems(text: str):
    return validate_text(text, name="c.yaml")[1]


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            MINIMAL.replace("ci: {}", "ci: &e {}").replace("prod:", "prod: &e"),
            9,
            9,
            "ambiguous YAML: found duplicate anchor 'e'; expected each anchor "
            "defined once",
        ),
        (
            "%YAML 1.1\n---\n" + MINIMAL.replace("port: 9477", "port: 9e3"),
            19,
            9,
            "ambiguous YAML: In YAML 1.1 floating point values should have a dot "
            "('.') in their mantissa; expected plain YAML 1.2, without a %YAML 1.1 "
            "directive",
        ),
    ],
    ids=["reused-anchor", "yaml11-float"],
)
def test_what_ruamel_only_warns_about_is_an_error_at_its_node(
    text, line, column, message
):
    problems = found_problems(text)
    assert (problems[0].line, problems[0].column, problems[0].message) == (
        line,
        column,
        message,
    )
    assert validate_text(text)[0] is None
