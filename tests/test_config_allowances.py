"""The allowance checks agree with Config.allowance: a config of well-formed
numbers is refused exactly when some command type, in some environment, gets
a stall allowance under two sample intervals, over its hard timeout, or over
the prod bounds; and each refusal is reported once."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.config import validate_text
from exporter.config.build import build_config
from exporter.config.schema import prod_maximum, with_defaults
from exporter.contract import OTHER_COMMAND_TYPE
from yamlsource import errors

SECURITY = {
    "allowed_commands": ["make"],
    "blocked_patterns": ["rm -rf /", "\\| *sh", ":\\(\\)", "of=/dev/sd"],
}

stall = st.integers(2, 4000)
hard = st.integers(1, 20000)
overrides = st.fixed_dictionaries(
    {},
    optional={
        "stall_seconds": stall,
        "hard_timeout_seconds": hard,
        "sample_interval_seconds": st.integers(1, 300),
    },
)
environment = st.fixed_dictionaries(
    {}, optional={"scale": st.sampled_from([0.5, 1, 1.5, 3]), "timeouts": overrides}
)
command_type = st.fixed_dictionaries(
    {}, optional={"stall_seconds": stall, "hard_timeout_seconds": hard}
)
configs = st.fixed_dictionaries(
    {
        "timeouts": st.fixed_dictionaries(
            {
                "stall_seconds": stall,
                "hard_timeout_seconds": hard,
                "kill_grace_seconds": st.just(5),
                "sample_interval_seconds": st.integers(1, 60),
            }
        ),
        "environments": st.fixed_dictionaries(
            {"default": st.just("ci"), "ci": environment, "prod": environment}
        ),
        "command_types": st.dictionaries(
            st.sampled_from(["build", "test", "lint"]),
            command_type,
            min_size=1,
            max_size=3,
        ).map(lambda types: {n: {"executables": [n], **t} for n, t in types.items()}),
        "metrics": st.just({}),
        "logging": st.just({}),
        "security": st.just(SECURITY),
    }
)


def _violations(data: dict) -> set[tuple[str, str]]:
    """(type, environment) pairs whose allowance breaks a documented rule,
    computed by the model itself. The base timeouts must hold on their own
    too: they are checked as one more environment without changes."""
    with_base = {**data, "environments": {**data["environments"], "base": {}}}
    config = build_config(with_defaults(with_base), Path("c.yaml"), Path.cwd())
    broken = set()
    names = [*config.command_types, OTHER_COMMAND_TYPE]
    for name, env in itertools.product(names, config.environments):
        a = config.allowance(name, env)
        too_loose = env == "prod" and (
            a.stall_seconds > prod_maximum("stall_seconds")
            or a.hard_timeout_seconds > prod_maximum("hard_timeout_seconds")
        )
        if (
            not 2 * a.sample_interval_seconds
            <= a.stall_seconds
            <= a.hard_timeout_seconds
            or too_loose
        ):
            broken.add((name, env))
    return broken


@settings(max_examples=400, deadline=None, database=None)
@given(data=configs)
def test_checks_refuse_exactly_the_configs_the_model_breaks(data):
    config, found = validate_text(json.dumps(data))
    problems = errors(found)
    broken = _violations(data)
    assert (config is None) == bool(broken), [str(p) for p in problems]
    keys = [(p.line, p.column, p.message) for p in problems]
    assert len(keys) == len(set(keys))
    assert len(problems) <= len(broken) * 2  # grouped, never one per pair and check
