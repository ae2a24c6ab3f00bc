"""A malformed SLO spec: one problem per mistake, each naming file, line,
column, key path, the bad value and what is accepted; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rulegen.cli import main
from rulegen.errors import SpecError, UnreadableSpecError
from rulegen.spec.loader import load_spec

VALID = """\
service: runner
team: platform
slos:
  - name: stall-ratio
    objective: 0.98
    aggregate_by: [environment]
    sli:
      events_ratio:
        bad: spark_runner_stalls_total{service="runner"}
        total: spark_runner_executions_total{service="runner"}
    alerts:
      - name: StallFastBurn
        severity: critical
        burn_type: fast
        long_window: 5m
        threshold: 0.2
        runbook: runner-fast-burn
        summary: Stalls burn the budget.
"""


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Specs are read as ``spec.yaml``, so problems start with that name."""
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    return Path("spec.yaml")


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as raised:
        load_spec(write(tmp_path, text))
    return [str(problem) for problem in raised.value.problems]


def test_the_valid_base_loads(tmp_path):
    spec, warnings = load_spec(write(tmp_path, VALID))
    assert [slo.name for slo in spec.slos] == ["stall-ratio"]
    assert warnings == []


ACCEPTED_ALERT_KEYS = (
    "name, severity, burn_type, long_window, short_window, burn_factor, "
    "threshold, for, runbook, summary"
)
ACCEPTED_DURATION = "a Prometheus duration with a unit, such as 30s, 5m, 1h30m or 3d"
ACCEPTED_SELECTOR = (
    "a PromQL selector: one metric name with optional label matchers, such as "
    'spark_runner_stalls_total{service="runner"}'
)
SLO_NAME = (
    "an SLO name of at most 63 lower-case letters, digits and '-', as in "
    "stall-ratio (it names files and the slo label)"
)
SERVICE_NAME = (
    "a lower-case name of at most 63 letters, digits, _ and -, as "
    "metrics.service in the watchdog config (it names files and the service label)"
)
RUNBOOK = (
    "a runbook: a page name under runbook_base_url (at most 63 lower-case "
    "letters, digits and '-'; it names a file) or an absolute http(s) URL"
)
OBJECTIVE = "the objective as a ratio strictly between 0 and 1, such as 0.98 for 98%"

CASES = {
    "unknown-key": (
        ("        long_window: 5m\n", "        long_window: 5m\n        windw: 1h\n"),
        [
            "spec.yaml:16:9: slos[0].alerts[0].windw: unknown key 'windw'; "
            f"accepted keys: {ACCEPTED_ALERT_KEYS}"
        ],
    ),
    "duplicate-key": (
        ("    objective: 0.98\n", "    objective: 0.98\n    objective: 0.99\n"),
        [
            "spec.yaml:6:5: slos[0].objective: duplicate key 'objective'; first "
            "defined at line 5, column 5; each key may appear once"
        ],
    ),
    "missing-field": (
        ("        summary: Stalls burn the budget.\n", ""),
        ["spec.yaml:12:9: slos[0].alerts[0].summary: missing required key 'summary'"],
    ),
    "objective-above-1": (
        ("objective: 0.98", "objective: 1.5"),
        [
            "spec.yaml:5:16: slos[0].objective: 1.5 is outside (0, 1); "
            f"accepted: {OBJECTIVE}"
        ],
    ),
    "objective-as-percent": (
        ("objective: 0.98", "objective: 99.9"),
        [
            "spec.yaml:5:16: slos[0].objective: 99.9 is outside (0, 1); "
            f"accepted: {OBJECTIVE}"
        ],
    ),
    "objective-0": (
        ("objective: 0.98", "objective: 0"),
        [
            "spec.yaml:5:16: slos[0].objective: 0 is outside (0, 1); "
            f"accepted: {OBJECTIVE}"
        ],
    ),
    "objective-quoted": (
        ("objective: 0.98", 'objective: "0.98"'),
        [
            "spec.yaml:5:16: slos[0].objective: '0.98' is text, not a number; "
            f"accepted: {OBJECTIVE}"
        ],
    ),
    "threshold-seconds-quoted": (
        (
            "    sli:\n      events_ratio:\n"
            '        bad: spark_runner_stalls_total{service="runner"}\n'
            '        total: spark_runner_executions_total{service="runner"}\n',
            "    sli:\n      latency:\n        histogram: job_seconds\n"
            "        threshold_seconds: '60'\n",
        ),
        [
            "spec.yaml:10:28: slos[0].sli.latency.threshold_seconds: '60' is "
            "text, not a number; accepted: a number greater than 0"
        ],
    ),
    "period-too-long": (
        ("objective: 0.98\n", "objective: 0.98\n    period: 99999999999999d\n"),
        [
            "spec.yaml:6:13: slos[0].period: '99999999999999d' is too long; "
            "accepted: at most 106751d23h47m16s (about 292 years, Prometheus's "
            "longest)"
        ],
    ),
    "period-one-second-too-long": (
        ("objective: 0.98\n", "objective: 0.98\n    period: 106751d23h47m17s\n"),
        [
            "spec.yaml:6:13: slos[0].period: '106751d23h47m17s' is too long; "
            "accepted: at most 106751d23h47m16s (about 292 years, Prometheus's "
            "longest)"
        ],
    ),
    "period-a-number-too-large-for-its-unit": (
        ("objective: 0.98\n", "objective: 0.98\n    period: 5000000000s\n"),
        [
            "spec.yaml:6:13: slos[0].period: '5000000000s' is not a duration "
            "(5000000000s is more than 4294967295 of one unit; write it in a "
            f"larger unit); accepted: {ACCEPTED_DURATION}"
        ],
    ),
    "window-not-a-duration": (
        ("long_window: 5m", "long_window: 5 minutes"),
        [
            "spec.yaml:15:22: slos[0].alerts[0].long_window: '5 minutes' is not a "
            "duration (not a valid duration string: 5 minutes); "
            f"accepted: {ACCEPTED_DURATION}"
        ],
    ),
    "window-without-unit": (
        ("long_window: 5m", "long_window: '5'"),
        [
            "spec.yaml:15:22: slos[0].alerts[0].long_window: '5' is not a duration "
            f"(a duration needs a unit); accepted: {ACCEPTED_DURATION}"
        ],
    ),
    "window-a-number": (
        ("long_window: 5m", "long_window: 5"),
        [
            "spec.yaml:15:22: slos[0].alerts[0].long_window: 5 is not a duration; "
            f"accepted: {ACCEPTED_DURATION}"
        ],
    ),
    "window-off-the-evaluations": (
        ("long_window: 5m", "long_window: 7m"),
        [
            "spec.yaml:15:22: slos[0].alerts[0].long_window: '7m' is not built from "
            "whole evaluations of this SLO; accepted: at least the base window 5m, "
            "in steps of 5m"
        ],
    ),
    "selector-does-not-parse": (
        ('bad: spark_runner_stalls_total{service="runner"}', "bad: stalls{service=}"),
        [
            "spec.yaml:9:14: slos[0].sli.events_ratio.bad: 'stalls{service=}' does "
            "not parse as PromQL (invalid promql query); "
            f"accepted: {ACCEPTED_SELECTOR}"
        ],
    ),
    "selector-is-an-expression": (
        ('bad: spark_runner_stalls_total{service="runner"}', "bad: sum(stalls)"),
        [
            "spec.yaml:9:14: slos[0].sli.events_ratio.bad: 'sum(stalls)' is an "
            f"expression (AggregateExpr), not a selector; accepted: {ACCEPTED_SELECTOR}"
        ],
    ),
    "alert-that-can-never-fire": (
        ("threshold: 0.2", "burn_factor: 60"),
        [
            "spec.yaml:16:22: slos[0].alerts[0].burn_factor: this alert can never "
            "fire: its error-ratio threshold 1.20 (60 x error budget 0.02) is at "
            "least 1; accepted: a threshold below 1"
        ],
    ),
    "slo-name-too-long": (
        ("name: stall-ratio", "name: " + "x" * 300),
        [
            f"spec.yaml:4:11: slos[0].name: {'x' * 40!r}... is 300 characters "
            f"long; accepted: {SLO_NAME}"
        ],
    ),
    "slo-name-one-past-the-bound": (
        ("name: stall-ratio", "name: " + "s" * 64),
        [
            f"spec.yaml:4:11: slos[0].name: {'s' * 40!r}... is 64 characters "
            f"long; accepted: {SLO_NAME}"
        ],
    ),
    "slo-name-with-a-slash": (
        ("name: stall-ratio", "name: a/b"),
        [f"spec.yaml:4:11: slos[0].name: 'a/b' is not {SLO_NAME}"],
    ),
    "service-a-path": (
        ("service: runner", "service: ../../etc"),
        [f"spec.yaml:1:10: service: '../../etc' is not {SERVICE_NAME}"],
    ),
    "service-too-long": (
        ("service: runner", "service: " + "r" * 64),
        [
            f"spec.yaml:1:10: service: {'r' * 40!r}... is 64 characters long; "
            f"accepted: {SERVICE_NAME}"
        ],
    ),
    "runbook-page-too-long": (
        ("runbook: runner-fast-burn", "runbook: " + "p" * 64),
        [f"spec.yaml:17:18: slos[0].alerts[0].runbook: {'p' * 64!r} is not {RUNBOOK}"],
    ),
    "label-name-with-dash": (
        ("aggregate_by: [environment]", "aggregate_by: [command-type]"),
        [
            "spec.yaml:6:20: slos[0].aggregate_by[0]: 'command-type' is not a "
            "Prometheus label name; accepted: letters, digits and underscores, not "
            "starting with a digit (no '-')"
        ],
    ),
}


@pytest.mark.parametrize(("edit", "expected"), CASES.values(), ids=CASES.keys())
def test_each_mistake_is_reported_where_it_stands(tmp_path, edit, expected):
    old, new = edit
    assert old in VALID
    assert problems(tmp_path, VALID.replace(old, new, 1)) == expected


def test_names_at_the_bound_build(tmp_path):
    text = VALID.replace("name: stall-ratio", "name: " + "s" * 63)
    text = text.replace("service: runner", "service: " + "r" * 63)
    text = text.replace("runbook: runner-fast-burn", "runbook: " + "p" * 63)
    path = write(tmp_path, text)

    result = CliRunner().invoke(main, ["build", str(path), "--out", "out"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "out/prometheus/rules" / f"{'s' * 63}.rules.yml").is_file()
    assert (tmp_path / "out/docs/runbooks" / f"{'p' * 63}.md").is_file()


def test_yaml_that_does_not_parse_names_its_place(tmp_path):
    path = write(
        tmp_path, VALID.replace("aggregate_by: [environment]", "aggregate_by: [x")
    )
    with pytest.raises(UnreadableSpecError) as raised:
        load_spec(path)
    [problem] = raised.value.problems
    assert (problem.file, problem.line, problem.column) == ("spec.yaml", 7, 8)
    assert problem.path == "(document)"
    assert problem.message.startswith("not YAML: ")


def test_every_problem_is_reported_at_once(tmp_path):
    text = (
        VALID.replace("objective: 0.98", "objective: 2")
        .replace("long_window: 5m", "long_window: soon")
        .replace("severity: critical", "severity: page")
    )
    found = problems(tmp_path, text)
    assert [line.split(": ")[1] for line in found] == [
        "slos[0].objective",
        "slos[0].alerts[0].severity",
        "slos[0].alerts[0].long_window",
    ]


def test_the_cli_prints_every_problem_and_exits_1_without_a_traceback(tmp_path):
    path = write(
        tmp_path,
        VALID.replace("objective: 0.98", "objective: 2").replace(
            "long_window: 5m", "long_window: soon"
        ),
    )
    result = CliRunner().invoke(main, ["build", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "rulegen: 2 problems in the SLO spec:"
    assert lines[1].startswith(f"  {path}:5:16: slos[0].objective: 2 is outside (0, 1)")
    assert lines[2].startswith(f"  {path}:15:22: slos[0].alerts[0].long_window: 'soon'")
    assert "Traceback" not in result.output
    assert not (tmp_path / "prometheus").exists()


def test_the_cli_exits_2_for_a_spec_that_is_not_yaml(tmp_path):
    path = write(tmp_path, "slos: [\n")
    result = CliRunner().invoke(main, ["build", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2:1: (document): not YAML: " in result.output
    assert "Traceback" not in result.output


def test_a_missing_spec_file_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["build", "nope.yaml"])
    assert result.exit_code == 2
    assert result.output == (
        "rulegen: 1 problem in the SLO spec:\n"
        "  nope.yaml:1:1: (document): file not found\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "[" * 100_000,
            "spec.yaml:1:65: (document): nesting deeper than 64 levels; accepted: "
            "at most 64 levels of nested lists and mappings",
            id="deep",
        ),
        pytest.param(
            "a: &a [*a]\n",
            "spec.yaml:1:8: a[0]: alias *a is inside the value of its own anchor "
            "&a, which would repeat forever; accepted: aliases to anchors whose "
            "value ends before the alias",
            id="recursive-alias",
        ),
        pytest.param(
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{n}: &{n} [{', '.join([f'*{b}'] * 10)}]\n"
                for b, n in zip("abcdefgh", "bcdefghi", strict=True)
            ),
            "spec.yaml:4:36: d[7]: alias *c copies 1111 values, bringing the values "
            "copied by aliases to 10108, over the limit of 10000; accepted: "
            "aliases that copy at most 10000 values in all (write the values out "
            "instead)",
            id="billion-laughs",
        ),
        pytest.param(
            "service: !vault x\n",
            "spec.yaml:1:10: (document): not loadable YAML: could not determine a "
            "constructor for the tag '!vault'; expected plain YAML without tags",
            id="custom-tag",
        ),
    ],
)
def test_yaml_past_the_loaders_bounds_is_one_problem_and_exit_2(
    tmp_path, text, expected
):
    result = CliRunner().invoke(main, ["build", str(write(tmp_path, text))])

    assert result.exit_code == 2
    assert result.output == f"rulegen: 1 problem in the SLO spec:\n  {expected}\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)
