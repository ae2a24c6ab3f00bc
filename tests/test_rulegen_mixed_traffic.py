"""A busy clean period then a quiet period at 50% errors: the long-window
error ratio the shipped rules record equals bad / total over the window
(within 1%), where a mean of short-window ratios would read 50 times that.

The test writes its own promtool test against the committed rule files and
runs the real promtool."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from rulegen import durations, expressions, names, promtool
from rulegen.promtests import series
from rulegen.promtests.inputs import Traffic, inputs_for
from rulegen.spec.loader import load_spec

ROOT = Path(__file__).resolve().parent.parent
BUSY, QUIET, QUIET_BAD = 1000, 10, 5  # events a minute


@pytest.mark.parametrize(
    ("slo_name", "window_minutes"),
    [("stall-ratio", 60), ("execution-latency", 6 * 60)],
    ids=["stall-ratio-1h", "execution-latency-6h"],
)
def test_the_long_window_ratio_is_total_bad_over_total_events(
    tmp_path, slo_name, window_minutes
):
    spec, _ = load_spec(ROOT / "slo.yaml")
    [slo] = [s for s in spec.slos if s.name == slo_name]
    half = window_minutes // 2

    # One window of busy clean history (outside the window checked), then
    # half a window busy and clean, then half a window quiet at 50% errors.
    total = [BUSY] * (window_minutes + half) + [QUIET] * half
    bad = [0] * (window_minutes + half) + [QUIET_BAD] * half
    truth = Fraction(QUIET_BAD * half, BUSY * half + QUIET * half)
    end = durations.render(durations.minutes(2 * window_minutes))

    inputs = inputs_for(slo)
    labels = {**inputs.aggregation, **names.rule_labels(spec, slo)}
    selected = names.rule_labels(spec, slo)
    window = durations.minutes(window_minutes)
    long_ratio = expressions.series(names.error_ratio(window), selected)
    short_ratio = expressions.series(names.error_ratio(slo.base_window), selected)
    span = durations.render(window - slo.interval / 2)
    test = {
        "rule_files": [str(ROOT / names.rules_file(slo))],
        "evaluation_interval": durations.render(slo.interval),
        "group_eval_order": [names.group(slo)],
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": s.selector,
                        "values": series.notation(series.cumulative(s.increments)),
                    }
                    for s in inputs.series(Traffic(total, bad))
                ],
                "promql_expr_test": [
                    {
                        "expr": f"abs({long_ratio} / {float(truth)!r} - 1) < bool 0.01",
                        "eval_time": end,
                        "exp_samples": [{"labels": _labels(labels), "value": 1}],
                    },
                    {
                        # The mean of the short ratios is about 0.25.
                        "expr": f"avg_over_time({short_ratio}[{span}]) > bool 0.2",
                        "eval_time": end,
                        "exp_samples": [{"labels": _labels(labels), "value": 1}],
                    },
                ],
            }
        ],
    }
    test_file = tmp_path / "mixed.test.yml"
    with test_file.open("w", encoding="utf-8") as handle:
        YAML(typ="safe").dump(test, handle)

    output = promtool.test_rules([test_file])

    assert "SUCCESS" in output


def _labels(labels: dict[str, str]) -> str:
    return expressions.series("", labels)
