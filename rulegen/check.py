"""``rulegen check [DIR]``: run the real tools on the generated artifacts.

Each check takes the output directory and returns one summary line.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import click
from ruamel.yaml import YAML

from rulegen import amtool, names, promtool
from rulegen.alertmanager import notifications, routingtests
from rulegen.errors import CheckFailedError

Check = Callable[[Path], str]


def prometheus_rules(out: Path) -> str:
    """promtool check rules and test rules on everything under prometheus/."""
    rules = sorted((out / names.RULES_DIR).glob("*.yml"))
    tests = sorted((out / names.TESTS_DIR).glob("*.yml"))
    resources = sorted((out / names.K8S_DIR).glob("*.yml"))
    if not rules and not resources:
        raise CheckFailedError(
            f"no rule files under {out / names.RULES_DIR}; run `rulegen build SPEC` "
            "first"
        )
    if rules:
        promtool.check_rules(rules)
    if tests:
        promtool.test_rules(tests)
    for resource in resources:
        _check_resource(resource)
    return (
        f"promtool: {len(rules)} rule files and {len(resources)} PrometheusRule "
        f"resources valid, {len(tests)} test files pass"
    )


def alertmanager_config(out: Path) -> str:
    """amtool check-config, the routing test cases, and every notification
    template rendered with every generated alert firing."""
    config = out / names.ALERTMANAGER_CONFIG
    if not config.is_file():
        return f"amtool: no {names.ALERTMANAGER_CONFIG} (the spec has no routing)"
    templates = config.parent / names.TEMPLATES_GLOB
    if not sorted(templates.parent.glob(templates.name)):
        raise CheckFailedError(f"{config}: no notification templates at {templates}")
    amtool.check_config(config)
    cases = routingtests.load(out / names.ROUTING_TESTS)
    routingtests.run(config, cases)
    rule_files = sorted((out / names.RULES_DIR).glob("*.yml"))
    rule_files += sorted((out / names.K8S_DIR).glob("*.yml"))
    with tempfile.TemporaryDirectory(prefix="rulegen-") as scratch:
        data = Path(scratch) / "notification.json"
        firing = notifications.firing_notification(rule_files, "check")
        notifications.write_notification(firing, data)
        for name in notifications.CALLED:
            amtool.render(templates, f'{{{{ template "{name}" . }}}}', data)
    return (
        f"amtool: {names.ALERTMANAGER_CONFIG} valid, {len(cases)} routing tests "
        f"pass, {len(notifications.CALLED)} notification templates render "
        + _rendered(len(firing["alerts"]))
    )


def _rendered(alerts: int) -> str:
    if alerts:
        return f"{alerts} alerts"
    return (
        f"with no alerts (no alerting rule under {names.RULES_DIR} or {names.K8S_DIR})"
    )


CHECKS: list[Check] = [prometheus_rules, alertmanager_config]


@click.command()
@click.argument(
    "directory",
    default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
def check(directory: Path) -> None:
    """Check the artifacts generated under DIRECTORY (default: .): rules
    must load in promtool and their unit tests pass; the Alertmanager config
    must pass amtool check-config, route every test case to its receivers
    and render its notification templates."""
    for run in CHECKS:
        click.echo(f"rulegen: {run(directory)}")


def _check_resource(resource: Path) -> None:
    """A PrometheusRule's groups, checked as a plain rule file."""
    yaml = YAML(typ="safe")
    document = yaml.load(resource.read_text(encoding="utf-8"))
    groups = (document or {}).get("spec", {}).get("groups")
    if not groups:
        raise CheckFailedError(f"{resource}: no spec.groups in the PrometheusRule")
    with tempfile.TemporaryDirectory(prefix="rulegen-") as scratch:
        plain = Path(scratch) / resource.name
        with plain.open("w", encoding="utf-8") as handle:
            yaml.dump({"groups": groups}, handle)
        try:
            promtool.check_rules([plain])
        except CheckFailedError as exc:
            raise CheckFailedError(f"{resource}: {exc}") from None
